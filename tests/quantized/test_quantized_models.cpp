// --quantize int8 / int4 on the Qwen2-VL and VipLlava fixtures, against Hugging Face's f32 run of the same
// weights (reference.safetensors), and the quantised-weight cache file. The tiny random models' logits
// have a standard deviation of ~1 (|max| ~4).
// Gates:
//  * int8: prompt logits (attended rows) and each decode step's logits within kInt8LogitTolerance of HF's
//    (measured: 0.12-0.15 on the prompt, up to 0.14 on decode steps, where weight rounding alone gives
//    0.12: `VLM_CPU_MATMUL=widen` computes the prompt in f32 on the dequantised weights).
//    Greedy ids identical for all 12 steps, except where HF's own top-2 logits are within kNearTie of each
//    other: there either of the two may come first (int8 moves logits by more than that), the step must
//    pick HF's runner-up, and the row's comparison ends (later steps follow another prefix). VipLlava's
//    single case opens with such a tie (top-2 gap 0.003), so it is compared on its batch rows too.
//  * int4: the share of attended prompt positions whose top-1 token agrees with HF is reported, and must
//    be at least kInt4MinTop1: a bar for gross breakage, not a quality claim (measured 0.50-0.61: with
//    K = 64 a group is a whole row, and the logits' median top-2 gap, 0.2-0.25, is below int4's error).

#include <fstream>

#include <catch2/catch.hpp>

#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

constexpr double kInt8LogitTolerance = 0.25;
constexpr double kNearTie = 0.05;
constexpr double kInt4MinTop1 = 0.4;

// A case's prompts: messages_<case>.json with image_<case>.png (Qwen2-VL's single case) or
// image_<case>_<row>.png.
std::vector<Prompt> case_prompts(const test::Fixture& fx, const std::string& name) {
  if (!fs::exists(fx.input("image_" + name + ".png"))) return test::one_image_prompts(fx, name);
  std::ifstream in(fx.input("messages_" + name + ".json"));
  Prompt p;
  p.messages = OrderedJson::parse(in);
  p.images.push_back(load_image(fx.input("image_" + name + ".png")));
  return {p};
}

struct Run {
  Tensor logits, ids, step_logits;
  registry::LoadedModel loaded;
};

Run run_case(const test::Fixture& fx, const std::string& name, Quantization q,
             std::optional<fs::path> cache_dir = fs::path()) {
  registry::LoadRequest request;
  request.model = fx.checkpoint().string();
  request.device = "cpu";
  request.options.quantization = q;
  request.options.quantized_cache_dir = std::move(cache_dir);
  Run run{{}, {}, {}, registry::load_model(request)};
  const ModelInputs inputs = run.loaded.model->processor().prepare(case_prompts(fx, name));
  GenerationConfig config = GenerationConfig::from_checkpoint(run.loaded.checkpoint->generation_config(),
                                                              run.loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 12;  // the fixture's generate() call
  TensorDump dump(*run.loaded.backend);
  generate_from_inputs(*run.loaded.model, inputs, config, {}, &dump);
  for (const char* t : {"logits", "generated_ids", "generation_step_logits"}) {
    INFO(t);
    REQUIRE(dump.find(t));
  }
  // Padded prompt positions carry no meaning (see keep_attended_rows).
  run.logits = test::keep_attended_rows(*dump.find("logits"), fx.tensor(name, "attention_mask"));
  run.ids = dump.find("generated_ids")->clone();
  run.step_logits = dump.find("generation_step_logits")->clone();
  return run;
}

// The top two entries of one row of logits.
struct TopTwo {
  int64_t best = 0, second = 0;
  double gap = 0;
};
TopTwo top_two(const Tensor& logits, int64_t row) {
  const int64_t vocab = logits.dim(-1);
  TopTwo t{0, -1, 0};
  for (int64_t v = 1; v < vocab; ++v) {
    const double x = logits.item(row * vocab + v);
    if (x > logits.item(row * vocab + t.best)) {
      t.second = t.best;
      t.best = v;
    } else if (t.second < 0 || x > logits.item(row * vocab + t.second)) {
      t.second = v;
    }
  }
  t.gap = logits.item(row * vocab + t.best) - logits.item(row * vocab + t.second);
  return t;
}

// Share of positions [.., S, V] whose argmax agrees.
double top1_agreement(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const int64_t vocab = a.dim(-1), positions = a.numel() / vocab;
  int64_t agree = 0;
  for (int64_t p = 0; p < positions; ++p) {
    int64_t best_a = 0, best_b = 0;
    for (int64_t v = 1; v < vocab; ++v) {
      if (a.item(p * vocab + v) > a.item(p * vocab + best_a)) best_a = v;
      if (b.item(p * vocab + v) > b.item(p * vocab + best_b)) best_b = v;
    }
    agree += best_a == best_b;
  }
  return double(agree) / double(positions);
}

void check_int8(const fs::path& dir, const std::string& name) {
  const test::Fixture fx(dir);
  const Run run = run_case(fx, name, Quantization::Int8);
  const Tensor reference = test::keep_attended_rows(fx.tensor(name, "logits"), fx.tensor(name, "attention_mask"));
  VLM_CHECK_CLOSE(run.logits, reference, kInt8LogitTolerance);
  const Tensor ref_ids = fx.tensor(name, "generated_ids");
  const Tensor ref_steps = fx.tensor(name, "generation_step_logits");
  REQUIRE(run.ids.shape() == ref_ids.shape());
  REQUIRE(run.step_logits.shape() == ref_steps.shape());
  const int64_t rows = ref_ids.dim(0), steps = ref_ids.dim(1), vocab = ref_steps.dim(-1);
  int64_t identical = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t at = r * steps + s;
      // Same prefix so far: this step's logits are comparable.
      double error = 0;
      for (int64_t v = 0; v < vocab; ++v)
        error = std::max(error, std::abs(run.step_logits.item(at * vocab + v) - ref_steps.item(at * vocab + v)));
      INFO(dir.filename().string() << " " << name << " row " << r << " step " << s);
      CHECK(error <= kInt8LogitTolerance);
      const TopTwo hf = top_two(ref_steps, at);
      const auto got = int64_t(run.ids.item(at));
      REQUIRE(int64_t(ref_ids.item(at)) == hf.best);
      if (got == hf.best) {
        ++identical;
        continue;
      }
      INFO("int8 picked " << got << ", HF " << hf.best << " (runner-up " << hf.second << ", top-2 gap " << hf.gap << ")");
      CHECK(hf.gap < kNearTie);
      CHECK(got == hf.second);
      break;
    }
  WARN(dir.filename().string() << " " << name << " int8: " << identical << " of " << rows * steps
                               << " greedy ids identical (a row stops at a near-tie), prompt logits max abs error "
                               << test::max_abs_difference(run.logits, reference).max_abs);
}

void check_int4(const fs::path& dir) {
  const test::Fixture fx(dir);
  const Run run = run_case(fx, "single", Quantization::Int4);
  const Tensor reference = fx.tensor("single", "logits");
  const double agreement = top1_agreement(run.logits, reference);
  const auto diff = test::max_abs_difference(run.logits, reference);
  const auto ids = test::max_abs_difference(run.ids, fx.tensor("single", "generated_ids"));
  WARN(dir.filename().string() << " int4: top-1 agreement with HF's f32 logits " << agreement
                               << " of the prompt positions; max abs logit error " << diff.max_abs
                               << "; 12 greedy ids " << (ids.max_abs == 0 ? "identical" : "differ"));
  CHECK(agreement >= kInt4MinTop1);
}

}  // namespace

TEST_CASE("qwen2_vl --quantize int8 stays within the logit tolerance with identical greedy ids", "[quantized][fixture][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  for (const std::string name : {"single", "batch"})
    SECTION(name) { check_int8(dir, name); }
}

TEST_CASE("vipllava --quantize int8 stays within the logit tolerance with identical greedy ids", "[quantized][fixture][vipllava]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/vipllava");
  for (const std::string name : {"single", "batch"})
    SECTION(name) { check_int8(dir, name); }
}

TEST_CASE("qwen2_vl --quantize int4 top-1 agreement", "[quantized][fixture][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  check_int4(dir);
}

TEST_CASE("vipllava --quantize int4 top-1 agreement", "[quantized][fixture][vipllava]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/vipllava");
  check_int4(dir);
}

TEST_CASE("quantised weights are cached once per checkpoint and mapped by later loads", "[quantized][fixture][cache]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  const test::Fixture fx(dir);
  const fs::path cache = test::temp_dir("quantized-cache");
  fs::remove_all(cache);

  const Run first = run_case(fx, "single", Quantization::Int8, cache);
  const auto files = [&] {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(cache)) out.push_back(e.path());
    return out;
  };
  REQUIRE(files().size() == 1);
  const fs::path file = files().front();
  CHECK(file.filename().string().ends_with("-int8.safetensors"));
  CHECK(file.filename().string().starts_with(checkpoint_fingerprint(*first.loaded.checkpoint)));
  const auto written = fs::last_write_time(file);

  // The second load maps the file: same bytes, so the same logits bit for bit, and nothing rewritten.
  const Run second = run_case(fx, "single", Quantization::Int8, cache);
  CHECK(test::max_abs_difference(first.logits, second.logits).max_abs == 0);
  CHECK(fs::last_write_time(file) == written);

  // A damaged file is replaced, with the same result.
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a safetensors file";
  const Run third = run_case(fx, "single", Quantization::Int8, cache);
  CHECK(test::max_abs_difference(first.logits, third.logits).max_abs == 0);
  CHECK(fs::file_size(file) > 1000);

  // Another quantisation gets its own file; the checkpoint directory is never written.
  run_case(fx, "single", Quantization::Int4, cache);
  CHECK(files().size() == 2);
  for (const auto& e : fs::recursive_directory_iterator(fx.checkpoint()))
    CHECK(e.path().string().find("quantized") == std::string::npos);
}
