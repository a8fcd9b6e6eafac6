// BridgeTower's declaration against the Hugging Face fixture checkpoint, a synthetic tiny checkpoint scored
// end to end through every head, and the errors bad inputs get.
#include <cmath>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"
#include "vlm/score/retrieve.hpp"
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

TEST_CASE("bridgetower retrieval scores every pair as score() does, each side encoded once", "[bridgetower][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("bridgetower"));
  const auto dir = test::temp_dir("bridgetower-retrieve");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 1, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  Scorer& scorer = *loaded.model->scorer();
  CHECK(scorer.retrieval_methods() == std::vector<std::string>{"itm", "itc"});
  const std::vector<Image> images = {gradient(200, 120), gradient(33, 99), gradient(64, 64)};
  const std::vector<std::string> texts = {"a photo of a cat", "two dogs on the grass by the sea", "red", "a b c d"};
  RetrievalOptions options;
  options.batch_size = 2;  // batches that split the images, the texts and each image's pairs
  options.top_k = 3;
  for (const std::string by : {"itm", "itc"}) {
    INFO(by);
    options.by = by;
    const RetrievalResult r = retrieve(*loaded.model, 3, [&](int64_t i) { return images[size_t(i)]; }, texts, options);
    REQUIRE(r.scores.shape() == Shape{3, 4});
    for (int64_t i = 0; i < 3; ++i) {
      std::vector<Prompt> pairs;
      for (const auto& text : texts) pairs.push_back(pair(text, images[size_t(i)]));
      const TensorMap direct = score_prompts(*loaded.model, pairs, by == "itm" ? "itm" : "contrastive", nullptr);
      for (int64_t t = 0; t < 4; ++t) {
        // itm: the match probability; itc: row t of logits_text_to_image against its own image (column t).
        const float expected = by == "itm" ? direct.at("match_prob").data<float>()[t]
                                           : direct.at("logits_text_to_image").data<float>()[t * 4 + t];
        CHECK(std::abs(r.scores.data<float>()[i * 4 + t] - expected) < 1e-5);
      }
    }
    CHECK(r.texts_for_image[0].size() == 3);
    CHECK(r.images_for_text[0].size() == 3);
    CHECK(r.image_embeds.defined() == (by == "itc"));
    if (by == "itc") {
      CHECK(r.image_embeds.shape() == Shape{3, 32});
      CHECK(r.text_embeds.shape() == Shape{4, 32});
    }
  }

  SECTION("encodings are checked") {
    const std::vector<std::string> one = {"x"};
    auto itc_text = scorer.encode_texts("itc", one);
    auto itm_image = scorer.encode_images("itm", std::span(images).subspan(0, 1));
    const Encoding* image_side[] = {itm_image[0].get()};
    const Encoding* text_side[] = {itc_text[0].get()};
    CHECK_THROWS_WITH(scorer.score_pairs("itm", image_side, text_side), Catch::Contains("made for 'itc'"));
    CHECK_THROWS_WITH(scorer.encode_texts("mlm", one), Catch::Contains("retrieval by 'mlm' is not available"));
    std::string words;
    for (int i = 0; i < 600; ++i) words += "a b ";  // 1200 tokens at least: one per word and space
    const std::vector<std::string> long_text = {words};
    CHECK_THROWS_WITH(scorer.encode_texts("itc", long_text), Catch::Contains("more than the text encoder's"));
  }
}
