// Idefics2's host-side rules against values computed from transformers v4.47.1's code: the resize rule,
// the NaViT position ids (float32 arange/bucketize, including a tie where exact arithmetic gives another
// bucket), the patch layout of a padded batch, and the config defaults.
#include <catch2/catch.hpp>

#include "idefics2_config.hpp"
#include "idefics2_image_processor.hpp"
#include "idefics2_vision.hpp"

using namespace vlm;
using namespace vlm::idefics2;

TEST_CASE("idefics2 resize scales only a long edge down and raises short edges", "[idefics2][image]") {
  auto size = [](int64_t h, int64_t w) {
    const ImageSize s = resized_size(h, w, 42, 70);
    return std::pair{s.height, s.width};
  };
  CHECK(size(120, 200) == std::pair<int64_t, int64_t>{42, 70});  // fixture single
  CHECK(size(53, 37) == std::pair<int64_t, int64_t>{53, 42});    // no upscale; the short edge raised, aspect lost
  CHECK(size(90, 120) == std::pair<int64_t, int64_t>{52, 70});   // int(52.5)
  CHECK(size(80, 80) == std::pair<int64_t, int64_t>{70, 70});    // a tie takes the width branch
  CHECK(size(10, 10) == std::pair<int64_t, int64_t>{42, 42});
}

TEST_CASE("idefics2 position ids bucket fractional coordinates as torch does", "[idefics2][vision]") {
  // Fixture batch image 0: a 3x5 grid whose last two columns are padding, table of 5x5.
  const std::vector<uint8_t> partial{1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
  CHECK(navit_position_ids(partial, 3, 5, 5) ==
        std::vector<int64_t>{0, 1, 3, 0, 0, 5, 6, 8, 0, 0, 15, 16, 18, 0, 0});
  // 25 real columns over a 70-wide table: the sixth coordinate lands in bucket 13, not 14 (float32 ties).
  const std::vector<uint8_t> row(25, 1);
  const auto ids = navit_position_ids(row, 1, 25, 70);
  CHECK(std::vector<int64_t>(ids.begin(), ids.begin() + 8) == std::vector<int64_t>{0, 2, 5, 8, 11, 13, 16, 19});
}

TEST_CASE("idefics2 patch layout drops all-zero images and keeps only fully covered patches", "[idefics2][vision]") {
  ModelInputs inputs;
  Tensor pixels = Tensor::zeros(Shape{1, 2, 3, 28, 28}, DType::F32);
  Tensor mask = Tensor::zeros(Shape{1, 2, 28, 28}, DType::I64);
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 20; ++x) {  // image 0 is 20 pixels wide: its second patch column is not whole
      pixels.data<float>()[y * 28 + x] = 0.5f;
      mask.data<int64_t>()[y * 28 + x] = 1;
    }
  inputs.tensors.emplace("pixel_values", pixels);
  inputs.tensors.emplace("pixel_attention_mask", mask);
  const PatchLayout layout = PatchLayout::of(inputs, 14);
  CHECK(layout.images == std::vector<int64_t>{0});  // image 1 is padding
  CHECK(layout.patches == std::vector<uint8_t>{1, 0, 1, 0});
  CHECK_FALSE(layout.all_real());
}

TEST_CASE("idefics2 config takes Mistral's and the perceiver's defaults", "[idefics2][config]") {
  const Config c = Config::from(ConfigView::parse(R"({"text_config": {"model_type": "mistral", "hidden_size": 64,
      "num_attention_heads": 16, "vocab_size": 100}, "image_token_id": 5})", "config.json"));
  CHECK(c.text.sliding_window == 4096);
  CHECK(c.text.num_key_value_heads == 8);
  CHECK(c.perceiver.hidden_size == 64);  // overwritten with the text width, and its eps
  CHECK(c.perceiver.rms_norm_eps == Approx(1e-6));
  CHECK(c.vision.patch_size == 32);
  const Config no_window = Config::from(ConfigView::parse(
      R"({"text_config": {"vocab_size": 100, "sliding_window": null}, "image_token_id": 5})", "config.json"));
  CHECK(no_window.text.sliding_window == 0);
  CHECK_THROWS_WITH(Config::from(ConfigView::parse(R"({"text_config": {"vocab_size": 100}})", "config.json")),
                    Catch::Contains("image_token_id"));
}
