// The VipLlava plugin's tensor declaration matches the checkpoint Hugging Face wrote (the fixture), its
// synthetic checkpoints validate against the same declaration and run end to end (template, processor,
// tower, decoder), and the 7b preset has the hub model's size.
#include <algorithm>

#include <catch2/catch.hpp>

#include "support/preset_size.hpp"
#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("vipllava declaration matches the Hugging Face fixture checkpoint", "[vipllava][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/vipllava/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("vipllava"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
}

TEST_CASE("vipllava synthetic checkpoints validate", "[vipllava][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("vipllava"));
  const auto dir = test::temp_dir("vipllava-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  const ConfigView& config = ckpt->config();
  CHECK(config.get<int64_t>("image_token_index") < config.child("text_config").get<int64_t>("vocab_size"));

  // 7b: only the declaration (writing GBs is for benchmarks). vip-llava-7b-hf has ~7.06 B parameters.
  const int64_t parameters = test::preset_parameters(*family, "7b");
  CHECK(parameters > 6'900'000'000);
  CHECK(parameters < 7'200'000'000);
}

TEST_CASE("a synthetic tiny vipllava checkpoint runs a chat prompt with an image", "[vipllava][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("vipllava"));
  const auto dir = test::temp_dir("vipllava-synth-run");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);

  Prompt prompt;
  prompt.messages = OrderedJson::parse(
      R"([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}])");
  Image image;  // 90x60 gradient: resized to 84x56, then center-cropped to 56x56
  image.width = 90;
  image.height = 60;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < 3; ++c) image.rgb.push_back(uint8_t((x * 2 + y * 3 + c * 40) % 256));
  prompt.images.push_back(image);
  const ModelInputs inputs = loaded.model->processor().prepare(std::span(&prompt, 1));

  REQUIRE(inputs.texts.size() == 1);
  CHECK(inputs.texts[0].starts_with("###Human: <image>"));
  CHECK(inputs.texts[0].ends_with("\nWhat is this?###Assistant:"));
  const int64_t image_token = loaded.checkpoint->config().get<int64_t>("image_token_index");
  const Tensor& ids = inputs.at("input_ids");
  CHECK(std::count(ids.data<int64_t>(), ids.data<int64_t>() + ids.numel(), image_token) == 16);
  CHECK(inputs.at("pixel_values").shape() == Shape{1, 3, 56, 56});

  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 4;
  const auto result = generate_from_inputs(*loaded.model, inputs, config);
  REQUIRE(result.generated_ids.size() == 1);
  CHECK(result.generated_ids[0].size() == 4);
}
