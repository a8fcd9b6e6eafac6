// The BLIP-2 plugin's tensor declarations match the checkpoints Hugging Face wrote (both fixtures), its
// synthetic checkpoints validate and caption an image end to end with either language model (an empty
// prompt included), and the full presets have the hub models' sizes.
#include <catch2/catch.hpp>

#include "support/preset_size.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("blip-2 declarations match the Hugging Face fixture checkpoints", "[blip2][fixture]") {
  for (const char* fixture : {"fixtures/blip2-opt/checkpoint", "fixtures/blip2-t5/checkpoint"}) {
    VLM_REQUIRE_SHARED(dir, fixture);
    INFO(fixture);
    const auto family = registry::create_family(registry::plugin_for_model_type("blip-2"));
    const auto ckpt = Checkpoint::open(dir);
    CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  }
}

TEST_CASE("blip-2 full presets have the hub models' sizes", "[blip2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("blip-2"));
  // Salesforce/blip2-opt-2.7b: ~3.74 B parameters; Salesforce/blip2-flan-t5-xl: ~3.94 B.
  for (const auto& [size, low, high] : {std::tuple{"opt-2.7b", 3'700'000'000LL, 3'800'000'000LL},
                                        std::tuple{"flan-t5-xl", 3'850'000'000LL, 4'000'000'000LL}}) {
    INFO(size);
    const int64_t parameters = test::preset_parameters(*family, size);
    CHECK(parameters > low);
    CHECK(parameters < high);
  }
}

TEST_CASE("synthetic tiny blip-2 checkpoints caption an image with OPT and with T5", "[blip2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("blip-2"));
  for (const char* size : {"tiny-opt", "tiny-t5"}) {
    INFO(size);
    const auto dir = test::temp_dir(std::string("blip2-synth-") + size);
    write_synthetic_checkpoint(*family, family->synth_recipe(size), dir, 0, true);
    const auto ckpt = Checkpoint::open(dir);
    CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
    registry::LoadRequest request;
    request.model = dir.string();
    request.device = "cpu";
    auto loaded = registry::load_model(request);
    Image image;
    image.width = 90;
    image.height = 60;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x)
        for (int c = 0; c < 3; ++c) image.rgb.push_back(uint8_t((x * 2 + y * 3 + c * 40) % 256));
    std::vector<Prompt> prompts(2);
    prompts[0].raw = "a photo of";
    prompts[1].raw = "";  // plain captioning
    for (auto& p : prompts) p.images.push_back(image);
    const ModelInputs inputs = loaded.model->processor().prepare(prompts);
    CHECK(inputs.at("pixel_values").shape() == Shape{2, 3, 56, 56});
    const int64_t image_token = loaded.checkpoint->config().get<int64_t>("image_token_index");
    const Tensor& ids = inputs.at("input_ids");
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t q = 0; q < 8; ++q) CHECK(ids.data<int64_t>()[b * ids.dim(1) + q] == image_token);
    GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                loaded.checkpoint->config());
    config.do_sample = false;
    config.max_new_tokens = config.min_new_tokens = 4;
    const auto result = generate_from_inputs(*loaded.model, inputs, config);
    REQUIRE(result.generated_ids.size() == 2);
    CHECK(result.generated_ids[1].size() == 4);
  }
}
