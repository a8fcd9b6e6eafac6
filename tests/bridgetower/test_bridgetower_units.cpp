// BridgeTower's declaration against the Hugging Face fixture checkpoint, a synthetic tiny checkpoint scored
// end to end through every head, and the errors bad inputs get.
#include <cmath>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"
#include "vlm/score/score.hpp"

using namespace vlm;

namespace {

Image gradient(int width, int height) {
  Image image{width, height, std::vector<uint8_t>(size_t(width) * size_t(height) * 3), "gradient"};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) image.rgb[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)] = uint8_t((x * 7 + y * 3 + c * 50) % 256);
  return image;
}

Prompt pair(const std::string& text, const Image& image) {
  Prompt p;
  p.raw = text;
  p.images.push_back(image);
  return p;
}

}  // namespace

TEST_CASE("bridgetower's declaration matches the Hugging Face fixture checkpoint", "[bridgetower][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/bridgetower/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("bridgetower"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
}

TEST_CASE("a synthetic tiny bridgetower scores through all three heads", "[bridgetower][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("bridgetower"));
  const auto dir = test::temp_dir("bridgetower-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  REQUIRE(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  REQUIRE(loaded.model->scorer());
  CHECK(loaded.model->scorer()->tasks() == std::vector<std::string>{"itm", "contrastive", "mlm"});

  const Image wide = gradient(200, 120), tall = gradient(33, 99);
  const std::vector<Prompt> pairs = {pair("a photo of a cat", wide), pair("two dogs on the grass by the sea", tall)};
  const TensorMap itm = score_prompts(*loaded.model, pairs, "itm", nullptr);
  REQUIRE(itm.at("logits").shape() == Shape{2, 2});
  for (int64_t b = 0; b < 2; ++b) {
    const float p = itm.at("match_prob").data<float>()[b];
    CHECK(p > 0.0f);
    CHECK(p < 1.0f);
  }
  // A row scores the same alone as in a padded batch (padding is invisible to every real token).
  const TensorMap alone = score_prompts(*loaded.model, std::span(pairs).subspan(0, 1), "itm", nullptr);
  for (int64_t i = 0; i < 2; ++i)
    CHECK(std::abs(alone.at("logits").data<float>()[i] - itm.at("logits").data<float>()[i]) < 1e-5);

  const TensorMap itc = score_prompts(*loaded.model, pairs, "contrastive", nullptr);
  for (const char* name : {"text_embeds", "image_embeds", "cross_embeds"}) {
    INFO(name);
    const Tensor& t = itc.at(name);
    REQUIRE(t.shape() == Shape{2, 32});
    for (int64_t b = 0; b < 2; ++b) {
      double norm = 0;
      for (int64_t i = 0; i < 32; ++i) norm += double(t.data<float>()[b * 32 + i]) * t.data<float>()[b * 32 + i];
      CHECK(std::abs(norm - 1.0) < 1e-5);
    }
  }
  CHECK(itc.at("logits_text_to_image").shape() == Shape{2, 2});

  const std::vector<Prompt> masked = {pair("a red <mask> on a green background", wide)};
  const TensorMap mlm = score_prompts(*loaded.model, masked, "mlm", nullptr);
  const ModelInputs inputs = loaded.model->processor().prepare(masked);
  const int64_t mask_id = family->synth_recipe("tiny").special_id("<mask>");
  const FillMaskResult filled = fill_masks(mlm.at("logits"), inputs.at("input_ids"), inputs.at("attention_mask"), mask_id, 3);
  REQUIRE(filled.masks.size() == 1);
  CHECK(filled.masks[0].ids.size() == 3);
  CHECK(filled.masks[0].probabilities[0] >= filled.masks[0].probabilities[1]);

  SECTION("bad inputs are clear errors") {
    Prompt two = pair("two images", wide);
    two.images.push_back(tall);
    CHECK_THROWS_WITH(score_prompts(*loaded.model, std::vector<Prompt>{two}, "itm", nullptr),
                      Catch::Contains("exactly one image"));
    CHECK_THROWS_WITH(score_prompts(*loaded.model, pairs, "caption", nullptr),
                      Catch::Contains("task 'caption' is not available") && Catch::Contains("itm, contrastive, mlm"));
  }
}
