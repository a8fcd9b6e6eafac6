// Rescale + normalise bit-exact against numpy's float32 path in transformers; crops and pads.
#include <bit>
#include <cstring>

#include <catch2/catch.hpp>

#include "image_test_helpers.hpp"
#include "vlm/image/geometry.hpp"
#include "vlm/image/pixels.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;

namespace {

const PixelNormalization kClip{true, 0.00392156862745098, true,
                               {0.48145466f, 0.4578275f, 0.40821073f},
                               {0.26862954f, 0.26130258f, 0.27577711f}};

Image grey_ramp(std::initializer_list<uint8_t> values) {
  Image image = test::constant_image(int(values.size()), 1, 0, 0, 0);
  size_t i = 0;
  for (uint8_t v : values) {
    image.rgb[i * 3] = image.rgb[i * 3 + 1] = image.rgb[i * 3 + 2] = v;
    ++i;
  }
  return image;
}

}  // namespace

TEST_CASE("rescale and normalise are bit-identical to transformers' numpy float32 path", "[image][pixels]") {
  // numpy 2.x: x = (uint8.astype(float64) * 0.00392156862745098).astype(float32);
  //            (x - float32(OPENAI_CLIP_MEAN)) / float32(OPENAI_CLIP_STD), float32 bit patterns below.
  const uint8_t values[] = {0, 1, 37, 127, 128, 200, 254, 255};
  const uint32_t expected[][3] = {
      {0xbfe568dc, 0xbfe044b8, 0xbfbd77d8}, {0xbfe38a7f, 0xbfde58f1, 0xbfbba5e1},
      {0xbfa0457e, 0xbf993110, 0xbf743e68}, {0x3d7ce092, 0x3e1d9531, 0x3ea6c5e6},
      {0x3d9c5620, 0x3e2cf36b, 0x3eae0dc4}, {0x3f904f64, 0x3f9fee31, 0x3fae90c9},
      {0x3ff536e5, 0x4003d502, 0x40086d66}, {0x3ff71541, 0x4004cae5, 0x40095660}};
  const Image image = grey_ramp({0, 1, 37, 127, 128, 200, 254, 255});
  const Tensor chw = to_pixel_tensor(image, kClip, ChannelLayout::CHW);
  REQUIRE(chw.shape() == Shape{3, 1, 8});
  const Tensor hwc = to_pixel_tensor(image, kClip, ChannelLayout::HWC);
  REQUIRE(hwc.shape() == Shape{1, 8, 3});
  for (size_t i = 0; i < std::size(values); ++i)
    for (size_t c = 0; c < 3; ++c) {
      INFO("value " << int(values[i]) << " channel " << c);
      CHECK(std::bit_cast<uint32_t>(chw.data<float>()[c * 8 + i]) == expected[i][c]);
      CHECK(std::bit_cast<uint32_t>(hwc.data<float>()[i * 3 + c]) == expected[i][c]);
    }
}

TEST_CASE("rescale alone and neither step", "[image][pixels]") {
  const Image image = grey_ramp({0, 51, 255});
  PixelNormalization rescale_only{true, 1.0 / 255.0, false, {}, {1.f, 1.f, 1.f}};
  const Tensor scaled = to_pixel_tensor(image, rescale_only);
  CHECK(scaled.data<float>()[1] == float(51.0 / 255.0));  // float32(float64 product)
  CHECK(scaled.data<float>()[2] == 1.0f);
  PixelNormalization none{false, 1.0, false, {}, {1.f, 1.f, 1.f}};
  CHECK(to_pixel_tensor(image, none).data<float>()[1] == 51.0f);
}

TEST_CASE("crop and center_crop, including HF's zero padding when the crop is larger", "[image][geometry]") {
  const Image image = test::pattern_image(5, 4);
  const auto pixel = [](const Image& im, int x, int y) {
    return std::array<uint8_t, 3>{im.at(y, x, 0), im.at(y, x, 1), im.at(y, x, 2)};
  };
  SECTION("crop") {
    const Image c = crop(image, 1, 2, 3, 2);
    REQUIRE((c.width == 3 && c.height == 2));
    CHECK(pixel(c, 0, 0) == pixel(image, 1, 2));
    CHECK(pixel(c, 2, 1) == pixel(image, 3, 3));
    CHECK_THROWS_AS(crop(image, 3, 0, 3, 1), Error);
    CHECK_THROWS_AS(crop(image, 0, 0, 0, 1), Error);
  }
  SECTION("center crop inside: top = (4 - 3) // 2 = 0, left = (5 - 2) // 2 = 1") {
    const Image c = center_crop(image, 2, 3);
    REQUIRE((c.width == 2 && c.height == 3));
    CHECK(pixel(c, 0, 0) == pixel(image, 1, 0));
    CHECK(pixel(c, 1, 2) == pixel(image, 2, 2));
  }
  SECTION("center crop larger than the image pads with zeros: 5x4 -> 8x7") {
    // HF: canvas 8x7, image at (ceil(3/2), ceil(3/2)) = (2, 2); crop window top = (4-7)//2 + 2 = 0.
    const Image c = center_crop(image, 8, 7);
    REQUIRE((c.width == 8 && c.height == 7));
    CHECK(pixel(c, 0, 0) == std::array<uint8_t, 3>{0, 0, 0});
    CHECK(pixel(c, 1, 1) == std::array<uint8_t, 3>{0, 0, 0});
    CHECK(pixel(c, 2, 2) == pixel(image, 0, 0));
    CHECK(pixel(c, 6, 5) == pixel(image, 4, 3));
    CHECK(pixel(c, 7, 6) == std::array<uint8_t, 3>{0, 0, 0});
  }
  SECTION("center crop wider but shorter: 5x4 -> 7x2 keeps rows 1..2, pads columns") {
    const Image c = center_crop(image, 7, 2);
    REQUIRE((c.width == 7 && c.height == 2));
    CHECK(pixel(c, 0, 0) == std::array<uint8_t, 3>{0, 0, 0});
    CHECK(pixel(c, 1, 0) == pixel(image, 0, 1));
    CHECK(pixel(c, 5, 1) == pixel(image, 4, 2));
    CHECK(pixel(c, 6, 1) == std::array<uint8_t, 3>{0, 0, 0});
  }
}

TEST_CASE("pad an image and a CHW tensor with a constant", "[image][geometry]") {
  const Image image = test::pattern_image(3, 2);
  const Image padded = pad(image, {1, 2, 0, 3}, {9, 8, 7});
  REQUIRE((padded.width == 6 && padded.height == 5));
  CHECK(padded.at(0, 0, 0) == 9);
  CHECK(padded.at(1, 0, 1) == image.at(0, 0, 1));
  CHECK(padded.at(2, 2, 2) == image.at(1, 2, 2));
  CHECK(padded.at(4, 5, 2) == 7);
  CHECK_THROWS_AS(pad(image, {-1, 0, 0, 0}), Error);

  const Tensor chw = to_pixel_tensor(image, PixelNormalization{false, 1.0, false, {}, {1.f, 1.f, 1.f}});
  const Tensor t = pad_spatial(chw, {0, 1, 2, 0}, -1.f);
  REQUIRE(t.shape() == Shape{3, 3, 5});
  CHECK(t.data<float>()[0] == -1.f);
  CHECK(t.data<float>()[2] == float(image.at(0, 0, 0)));
  CHECK(t.data<float>()[2 * 15 + 1 * 5 + 4] == float(image.at(1, 2, 2)));
  CHECK(t.data<float>()[2 * 15 + 2 * 5 + 4] == -1.f);
}
