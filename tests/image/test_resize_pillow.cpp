// resize() is bit-identical to Pillow's Image.resize for RGB uint8 images (every filter, up and down,
// non-integer ratios, 1-pixel sides, single-axis resizes), plus properties Pillow guarantees.
#include <catch2/catch.hpp>

#include "image_test_helpers.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;

namespace {

struct PillowCase {
  Resample filter;
  int width, height, out_width, out_height;
  uint64_t pillow_fnv1a64;
};

// From tests/image/pillow_expectations.py with Pillow 9.4.0:
//   np.asarray(Image.fromarray(pattern(w, h), "RGB").resize((W, H), resample=code)), hashed with FNV-1a 64.
const PillowCase kPillowCases[] = {
    {Resample::Nearest, 37, 53, 56, 84, 0x6c4ca705abdb980full},
    {Resample::Nearest, 200, 120, 112, 56, 0xddaa017194a4f75full},
    {Resample::Nearest, 64, 48, 17, 29, 0xe535834cfd1ea20cull},
    {Resample::Nearest, 1, 9, 5, 4, 0x385907ea773d0527ull},
    {Resample::Nearest, 9, 1, 1, 7, 0x160fabfcb2f738ebull},
    {Resample::Nearest, 13, 11, 13, 5, 0x29c321608a29f541ull},
    {Resample::Nearest, 13, 11, 6, 11, 0x77c3b2fe72d1b25cull},
    {Resample::Nearest, 300, 7, 29, 70, 0x84f074350c8099f1ull},
    {Resample::Nearest, 5, 5, 1, 1, 0xb95228185ab36e40ull},
    {Resample::Nearest, 97, 89, 96, 90, 0x3d5e17013bfa285cull},
    {Resample::Lanczos, 37, 53, 56, 84, 0xbf6c468d5e8c1080ull},
    {Resample::Lanczos, 200, 120, 112, 56, 0x7f3eb053569b47a5ull},
    {Resample::Lanczos, 64, 48, 17, 29, 0x93996e5880a214d6ull},
    {Resample::Lanczos, 1, 9, 5, 4, 0xfd3cc86ffabaaccdull},
    {Resample::Lanczos, 9, 1, 1, 7, 0xded4c1324556621dull},
    {Resample::Lanczos, 13, 11, 13, 5, 0x9a978fc2068e2b9dull},
    {Resample::Lanczos, 13, 11, 6, 11, 0xb43d23426d3a4704ull},
    {Resample::Lanczos, 300, 7, 29, 70, 0x2a6fad9cf686a430ull},
    {Resample::Lanczos, 5, 5, 1, 1, 0xe3062b1a2409df62ull},
    {Resample::Lanczos, 97, 89, 96, 90, 0x85c7c1844b22ffcfull},
    {Resample::Bilinear, 37, 53, 56, 84, 0x7a8097b1f710be37ull},
    {Resample::Bilinear, 200, 120, 112, 56, 0x96b2afd264a62ab9ull},
    {Resample::Bilinear, 64, 48, 17, 29, 0xac1b15ec407705d5ull},
    {Resample::Bilinear, 1, 9, 5, 4, 0xc6a80a09615b7229ull},
    {Resample::Bilinear, 9, 1, 1, 7, 0x57d0c10c96031ac6ull},
    {Resample::Bilinear, 13, 11, 13, 5, 0xac2917f4d2550b25ull},
    {Resample::Bilinear, 13, 11, 6, 11, 0x05c62ffb7c7d00b3ull},
    {Resample::Bilinear, 300, 7, 29, 70, 0xae72959ed224464cull},
    {Resample::Bilinear, 5, 5, 1, 1, 0xaf22261a06ac07f1ull},
    {Resample::Bilinear, 97, 89, 96, 90, 0xb10a7a0bf6d9fdc7ull},
    {Resample::Bicubic, 37, 53, 56, 84, 0x9ab9a409495f7b76ull},
    {Resample::Bicubic, 200, 120, 112, 56, 0xf59e075a949b7744ull},
    {Resample::Bicubic, 64, 48, 17, 29, 0x8582c15d18f52278ull},
    {Resample::Bicubic, 1, 9, 5, 4, 0x34ed04174efbaa25ull},
    {Resample::Bicubic, 9, 1, 1, 7, 0x560597b83a92a186ull},
    {Resample::Bicubic, 13, 11, 13, 5, 0x3ed37bc0daa6aa19ull},
    {Resample::Bicubic, 13, 11, 6, 11, 0xec9ffd7e1b90b643ull},
    {Resample::Bicubic, 300, 7, 29, 70, 0x426a1192c5586aafull},
    {Resample::Bicubic, 5, 5, 1, 1, 0xdde1ff1a22204083ull},
    {Resample::Bicubic, 97, 89, 96, 90, 0x7844836e649f1cf0ull},
    {Resample::Box, 37, 53, 56, 84, 0x6c4ca705abdb980full},
    {Resample::Box, 200, 120, 112, 56, 0x500ce7b2b5d519c9ull},
    {Resample::Box, 64, 48, 17, 29, 0xa93971f37828023bull},
    {Resample::Box, 1, 9, 5, 4, 0x9665e91214a46f14ull},
    {Resample::Box, 9, 1, 1, 7, 0x24be55f41cf56053ull},
    {Resample::Box, 13, 11, 13, 5, 0x115be080f045c113ull},
    {Resample::Box, 13, 11, 6, 11, 0x975d40bdd56a8986ull},
    {Resample::Box, 300, 7, 29, 70, 0xfe267d31333c1cebull},
    {Resample::Box, 5, 5, 1, 1, 0xd556da1a1d51d189ull},
    {Resample::Box, 97, 89, 96, 90, 0x8f0b1da45b424b49ull},
    {Resample::Hamming, 37, 53, 56, 84, 0xd8ff977743cd6bf9ull},
    {Resample::Hamming, 200, 120, 112, 56, 0xc8cdd8940310c389ull},
    {Resample::Hamming, 64, 48, 17, 29, 0x470a0c99b3d623a1ull},
    {Resample::Hamming, 1, 9, 5, 4, 0x468fea7013b4a40bull},
    {Resample::Hamming, 9, 1, 1, 7, 0x760e24300beed9e2ull},
    {Resample::Hamming, 13, 11, 13, 5, 0x86d9b8e7c0763c2dull},
    {Resample::Hamming, 13, 11, 6, 11, 0x21987762d3ee56fdull},
    {Resample::Hamming, 300, 7, 29, 70, 0x09f2019aec4f35bdull},
    {Resample::Hamming, 5, 5, 1, 1, 0xa689e91a01d2e5d3ull},
    {Resample::Hamming, 97, 89, 96, 90, 0x55d4df5b2625a430ull},
};

}  // namespace

TEST_CASE("resize matches Pillow 9.4 bit for bit, every filter and shape", "[image][resize][pillow]") {
  for (const PillowCase& c : kPillowCases) {
    INFO(resample_name(c.filter) << " " << c.width << "x" << c.height << " -> " << c.out_width << "x" << c.out_height);
    const Image out = resize(test::pattern_image(c.width, c.height), c.out_width, c.out_height, c.filter);
    REQUIRE(out.width == c.out_width);
    REQUIRE(out.height == c.out_height);
    REQUIRE(out.rgb.size() == size_t(c.out_width) * size_t(c.out_height) * 3);
    CHECK(test::fnv1a64(out.rgb) == c.pillow_fnv1a64);
  }
}

TEST_CASE("resize of a tiny image equals Pillow's values written out", "[image][resize][pillow]") {
  // Same script, printed in full: pattern(5, 3).resize((2, 4), resample=BICUBIC / NEAREST).
  const std::vector<uint8_t> bicubic = {73,  63,  74,  73,  81,  96,  67,  129, 106, 83,  168, 95,
                                        79,  179, 103, 104, 211, 126, 103, 181, 67,  123, 181, 168};
  const std::vector<uint8_t> nearest = {91, 128, 175, 67,  165, 167, 14,  138, 196, 63,  218, 134,
                                        14, 138, 196, 63,  218, 134, 129, 112, 84,  216, 150, 188};
  CHECK(resize(test::pattern_image(5, 3), 2, 4, Resample::Bicubic).rgb == bicubic);
  CHECK(resize(test::pattern_image(5, 3), 2, 4, Resample::Nearest).rgb == nearest);
}

TEST_CASE("resize properties that hold in Pillow", "[image][resize]") {
  const Image noise = test::pattern_image(23, 17);
  SECTION("same size is the identity for every filter") {
    for (int code = 0; code <= 5; ++code)
      CHECK(resize(noise, 23, 17, resample_from_pil_code(code)).rgb == noise.rgb);
  }
  SECTION("a constant image stays constant under every filter and ratio") {
    const Image flat = test::constant_image(31, 19, 200, 7, 255);
    for (int code = 0; code <= 5; ++code)
      for (auto [w, h] : {std::pair{10, 40}, std::pair{31, 3}, std::pair{64, 19}, std::pair{1, 1}}) {
        const Image out = resize(flat, w, h, resample_from_pil_code(code));
        INFO(resample_name(resample_from_pil_code(code)) << " -> " << w << "x" << h);
        CHECK(out.rgb == test::constant_image(w, h, 200, 7, 255).rgb);
      }
  }
  SECTION("box downscale rounds half up after each pass, as Pillow's two fixed-point passes do") {
    // Red channel of a 4x2 image -> 2x1. Horizontal: (0+1)/2 = 0.5 -> 1, (10+20)/2 = 15, (2+3)/2 = 2.5 -> 3,
    // (30+41)/2 = 35.5 -> 36; vertical: (1+15)/2 = 8, (3+36)/2 = 19.5 -> 20 (Pillow 9.4 gives [8, 20]; a
    // one-pass block mean would give 19 for the second).
    Image image = test::constant_image(4, 2, 0, 0, 0);
    const uint8_t red[8] = {0, 1, 2, 3, 10, 20, 30, 41};
    for (size_t i = 0; i < 8; ++i) image.rgb[i * 3] = red[i];
    const Image out = resize(image, 2, 1, Resample::Box);
    CHECK(int(out.rgb[0]) == 8);
    CHECK(int(out.rgb[3]) == 20);
  }
}

TEST_CASE("resize errors and PIL resample codes", "[image][resize]") {
  const Image image = test::pattern_image(4, 4);
  CHECK_THROWS_AS(resize(image, 0, 4, Resample::Bicubic), Error);
  CHECK_THROWS_AS(resize(image, 4, -1, Resample::Bicubic), Error);
  CHECK_THROWS_AS(resize(Image{}, 4, 4, Resample::Bicubic), Error);
  CHECK(resample_from_pil_code(3) == Resample::Bicubic);
  CHECK(resample_from_pil_code(0) == Resample::Nearest);
  CHECK(resample_from_pil_code(1) == Resample::Lanczos);
  CHECK_THROWS_AS(resample_from_pil_code(6), Error);
}
