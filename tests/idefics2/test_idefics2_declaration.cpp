// The Idefics2 plugin's tensor declaration matches the checkpoint Hugging Face wrote (the fixture), its
// synthetic checkpoints validate against the same declaration and run end to end (template, processor with
// image expansion, vision encoder, perceiver, Mistral decoder with a sliding window shorter than the prompt),
// and the 8b preset has the hub model's size.
#include <algorithm>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("idefics2 declaration matches the Hugging Face fixture checkpoint", "[idefics2][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/idefics2/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  CHECK(family->expected_tensors(ckpt->config()).size() == ckpt->tensors().size());
}

TEST_CASE("idefics2 synthetic checkpoints validate, and 8b has the hub model's size", "[idefics2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto dir = test::temp_dir("idefics2-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  // HuggingFaceM4/idefics2-8b has ~8.40 B parameters.
  const auto recipe = family->synth_recipe("8b");
  int64_t parameters = 0;
  for (const auto& spec : family->expected_tensors(ConfigView::parse(recipe.config.dump(), "config.json")))
    if (!spec.optional) parameters += spec.shape.numel();
  CHECK(parameters > 8'300'000'000);
  CHECK(parameters < 8'500'000'000);
}

TEST_CASE("a synthetic tiny idefics2 checkpoint runs a chat prompt with two images", "[idefics2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto dir = test::temp_dir("idefics2-synth-run");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);

  Prompt prompt;
  prompt.messages = OrderedJson::parse(R"([{"role": "user", "content": [{"type": "image"}, {"type": "text",
      "text": "Compare this"}, {"type": "image"}, {"type": "text", "text": "with that, in a few words."}]}])");
  for (const auto& [w, h] : {std::pair{90, 60}, std::pair{40, 100}}) {
    Image image;
    image.width = w;
    image.height = h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) image.rgb.push_back(uint8_t((x * 2 + y * 3 + c * 40) % 256));
    prompt.images.push_back(image);
  }
  const ModelInputs inputs = loaded.model->processor().prepare(std::span(&prompt, 1));
  REQUIRE(inputs.texts.size() == 1);
  const std::string image = "<fake_token_around_image>" + [] {
    std::string s;
    for (int i = 0; i < 8; ++i) s += "<image>";
    return s;
  }() + "<fake_token_around_image>";
  CHECK(inputs.texts[0] == "User:" + image + "Compare this" + image + "with that, in a few words.<end_of_utterance>\nAssistant:");
  // 90x60 -> 70x46, 40x100 -> 42x70: padded to 70x70 (the first has a masked patch row).
  CHECK(inputs.at("pixel_values").shape() == Shape{1, 2, 3, 70, 70});
  const Tensor& ids = inputs.at("input_ids");
  const int64_t image_token = loaded.checkpoint->config().get<int64_t>("image_token_id");
  CHECK(std::count(ids.data<int64_t>(), ids.data<int64_t>() + ids.numel(), image_token) == 16);
  REQUIRE(ids.dim(1) > 24);  // longer than the tiny preset's sliding window

  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 4;
  const auto result = generate_from_inputs(*loaded.model, inputs, config);
  REQUIRE(result.generated_ids.size() == 1);
  CHECK(result.generated_ids[0].size() == 4);
}
