// The per-sequence engine on the tiny Qwen2-VL fixture checkpoint (CPU): requests admitted at different
// steps of one Generator, prompts run in small chunks beside other requests' decoding, finished requests
// leaving the batch, two threads with their own generators on one loaded model, and score_continuation
// against the full forward's logits. Each request's reference is the same request generated alone.
#include <cmath>
#include <thread>

#include <catch2/catch.hpp>

#include "support/fixture.hpp"
#include "support/load_model.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/generate/generator.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

Prompt chat(const fs::path& dir, const std::string& text, const char* image) {
  Prompt p;
  p.messages = OrderedJson::array();
  OrderedJson content = OrderedJson::array();
  if (image) {
    content.push_back({{"type", "image"}});
    p.images.push_back(load_image(dir / "inputs" / image));
  }
  content.push_back({{"type", "text"}, {"text", text}});
  p.messages.push_back({{"role", "user"}, {"content", content}});
  return p;
}

GenerationConfig greedy(const registry::LoadedModel& loaded, int64_t max_new_tokens) {
  GenerationConfig c =
      GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(), loaded.checkpoint->config());
  c.do_sample = false;
  c.max_new_tokens = max_new_tokens;
  c.ignore_eos = true;
  c.repetition_penalty = 3.0;  // random weights otherwise repeat one token; deterministic all the same
  return c;
}

std::vector<int64_t> alone(Model& model, const Prompt& prompt, const GenerationConfig& config) {
  return generate(model, std::span<const Prompt>(&prompt, 1), config).generated_ids.at(0);
}

}  // namespace

TEST_CASE("requests admitted at different steps each generate what they generate alone", "[generate][engine]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  Model& model = *loaded.model;
  const std::vector<Prompt> prompts{chat(dir, "What is in this picture?", "image_single.png"),
                                    chat(dir, "Describe the colors and the shapes you see, in detail.", nullptr),
                                    chat(dir, "Compare it.", "image_multi_b.png")};
  const std::vector<int64_t> budgets{10, 6, 8};  // different lengths: requests leave at different steps
  std::vector<std::vector<int64_t>> expected;
  for (size_t i = 0; i < prompts.size(); ++i) expected.push_back(alone(model, prompts[i], greedy(loaded, budgets[i])));

  GeneratorOptions options;
  options.session.max_sequences = 3;
  options.session.max_length = 256;
  options.prefill_chunk = 7;  // long prompts run over several steps, beside the others' decoding
  Generator generator(model, options);
  std::vector<SequenceId> ids;
  std::map<SequenceId, std::vector<int64_t>> streamed;
  int64_t step = 0, most_active = 0;
  while (ids.size() < prompts.size() || !generator.idle()) {
    // Admit request k at step 3k, while earlier ones are mid-prompt or decoding.
    if (ids.size() < prompts.size() && step == int64_t(3 * ids.size()))
      ids.push_back(generator.admit(prompts[ids.size()], greedy(loaded, budgets[ids.size()])));
    if (generator.idle()) {
      ++step;
      continue;
    }
    most_active = std::max(most_active, generator.active());
    for (const auto& event : generator.step())
      if (event.token >= 0) streamed[event.sequence].push_back(event.token);
    ++step;
    REQUIRE(step < 500);
  }
  CHECK(most_active == 3);  // all three were in flight together at some step
  for (size_t i = 0; i < prompts.size(); ++i) {
    INFO("request " << i);
    const RequestState& r = generator.request(ids[i]);
    CHECK(r.generated_ids == expected[i]);
    CHECK(streamed[ids[i]] == expected[i]);
    CHECK(r.finish_reason == "length");
  }
}

TEST_CASE("a finished request leaves the batch and frees its slot", "[generate][engine]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  GeneratorOptions options;
  options.session.max_sequences = 2;
  options.session.max_length = 128;
  Generator generator(*loaded.model, options);
  const SequenceId short_one = generator.admit(chat(dir, "Hi.", nullptr), greedy(loaded, 2));
  generator.admit(chat(dir, "Tell me more.", nullptr), greedy(loaded, 5));
  CHECK_THROWS_WITH(generator.admit(chat(dir, "No room.", nullptr), greedy(loaded, 1)),
                    Catch::Contains("do not fit beside the 2 active"));
  generator.step();  // prompts + first tokens
  generator.step();  // the short request's second and last token
  CHECK(generator.request(short_one).finish_reason == "length");
  CHECK(generator.active() == 1);
  // Its slot takes a new request at once.
  const SequenceId next = generator.admit(chat(dir, "Another.", nullptr), greedy(loaded, 1));
  while (!generator.idle()) generator.step();
  CHECK(generator.request(next).generated_ids.size() == 1);
}

TEST_CASE("two threads with their own generators on one model get correct results", "[generate][engine][threads]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  Model& model = *loaded.model;
  const Prompt a = chat(dir, "What is in this picture?", "image_single.png");
  const Prompt b = chat(dir, "Describe the colors.", "image_multi_a.png");
  const auto config = greedy(loaded, 8);
  const auto want_a = alone(model, a, config), want_b = alone(model, b, config);
  std::vector<int64_t> got_a, got_b;
  std::string error;
  std::mutex error_mutex;
  auto worker = [&](const Prompt& p, std::vector<int64_t>& out) {
    try {
      for (int round = 0; round < 3; ++round) out = alone(model, p, config);
    } catch (const std::exception& e) {
      std::lock_guard lock(error_mutex);
      error = e.what();
    }
  };
  std::thread ta(worker, std::cref(a), std::ref(got_a)), tb(worker, std::cref(b), std::ref(got_b));
  ta.join();
  tb.join();
  CHECK(error.empty());
  CHECK(got_a == want_a);
  CHECK(got_b == want_b);
}

TEST_CASE("score_continuation equals the log-softmax of the full forward's logits", "[generate][engine][score]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  Model& model = *loaded.model;
  const Prompt prompt = chat(dir, "What is in this picture? A small cat.", "image_single.png");
  const ModelInputs inputs = model.processor().prepare(std::span<const Prompt>(&prompt, 1));
  const Tensor& ids = inputs.at("input_ids");
  const int64_t n = ids.dim(1), k = 5;

  TensorDump dump(*loaded.backend);
  GenerationConfig config = greedy(loaded, 1);
  generate_from_inputs(model, inputs, config, {}, &dump);
  REQUIRE(dump.find("logits"));
  const Tensor& logits = *dump.find("logits");  // [1, n, vocab]
  const int64_t vocab = logits.dim(2);

  const auto scores = score_continuation(model, inputs, k);
  REQUIRE(int64_t(scores.size()) == k);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = n - k + j;
    const float* row = logits.data<float>() + (i - 1) * vocab;
    double top = row[0], sum = 0;
    for (int64_t v = 1; v < vocab; ++v) top = std::max<double>(top, row[v]);
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - top);
    const double want = double(row[ids.data<int64_t>()[i]]) - top - std::log(sum);
    INFO("continuation token " << j);
    CHECK(scores[size_t(j)] == Approx(want).margin(1e-4));
    CHECK(scores[size_t(j)] <= 0.0);
  }
  CHECK_THROWS_WITH(score_continuation(model, inputs, n), Catch::Contains("need at least one token of context"));
}

TEST_CASE("a bf16 KV cache stays close to the f32 one", "[generate][engine][kv_cache]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  Model& model = *loaded.model;
  const Prompt prompt = chat(dir, "What is in this picture?", "image_single.png");
  const ModelInputs inputs = model.processor().prepare(std::span<const Prompt>(&prompt, 1));
  const GenerationConfig config = greedy(loaded, 6);
  TensorDump f32(*loaded.backend), bf16(*loaded.backend);
  generate_from_inputs(model, inputs, config, {}, &f32);
  GenerateOptions options;
  options.kv_dtype = DType::BF16;
  generate_from_inputs(model, inputs, config, {}, &bf16, nullptr, options);
  REQUIRE(f32.find("generation_step_logits"));
  REQUIRE(bf16.find("generation_step_logits"));
  // Keys and values are rounded to bf16 when stored: every logit moves by that rounding, and only by it.
  const auto step = test::max_abs_difference(*bf16.find("generation_step_logits"), *f32.find("generation_step_logits"));
  INFO("max abs step-logit difference " << step.max_abs);
  CHECK(step.max_abs < 5e-2);
  CHECK(step.max_abs > 0.0);  // the cache really was bf16
}
