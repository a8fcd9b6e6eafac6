// load_image: PIL convert("RGB") semantics on every kind of source pixel, and clear errors (never a crash)
// on missing, non-image, truncated, corrupt and absurdly large files. load_video_frames: order and sizes.
#include <chrono>
#include <fstream>
#include <iterator>
#include <random>

#include <catch2/catch.hpp>

#include "image_test_helpers.hpp"
#include "support/shared_data.hpp"
#include "vlm/image/load.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;

namespace {

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The message of the vlm::Error `action` throws ("" if it does not throw one; other exceptions propagate).
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("load_image converts every pixel kind to RGB exactly as PIL's convert(\"RGB\")", "[image][load]") {
  // tests/image/data/X and X.rgb, the latter written by Pillow 9.4.0 (make_conversion_samples.py).
  for (const char* name : {"rgb.png", "rgba.png", "grey.png", "grey_alpha.png", "bilevel.png", "palette.png",
                           "palette_transparent.png", "two_frames.gif", "rgb16.png", "cmyk.tif", "rgb_420.jpg",
                           "cmyk.jpg"}) {
    INFO(name);
    const Image image = load_image(test::image_test_data(name));
    CHECK(image.width == 8);
    CHECK(image.height == 6);
    CHECK(image.source == test::image_test_data(name).string());
    CHECK(image.rgb == read_bytes(test::image_test_data(std::string(name) + ".rgb")));
  }
}

TEST_CASE("16-bit greyscale keeps the high byte (a deliberate difference from PIL, which clips)", "[image][load]") {
  // grey16.png holds random 16-bit samples; PIL (mode "I") clips them to 255 on convert("RGB").
  const Image image = load_image(test::image_test_data("grey16.png"));
  const std::vector<uint8_t> pil = read_bytes(test::image_test_data("grey16.png.rgb"));
  REQUIRE(image.rgb.size() == pil.size());
  for (size_t p = 0; p < image.rgb.size(); p += 3) {
    CHECK(image.rgb[p] == image.rgb[p + 1]);  // replicated grey
    CHECK(image.rgb[p] == image.rgb[p + 2]);
    CHECK(pil[p] == 255);  // PIL clips these large 16-bit samples: every pixel is white there
  }
  // The high bytes vary (random 16-bit samples), so the image is not PIL's all-white.
  CHECK(image.rgb != pil);
}

TEST_CASE("decode_image reads encoded bytes held in memory", "[image][load]") {
  const auto bytes = read_bytes(test::image_test_data("rgba.png"));
  const Image image = decode_image(bytes, "upload.png");
  CHECK(image.source == "upload.png");
  CHECK(image.rgb == read_bytes(test::image_test_data("rgba.png.rgb")));
  CHECK_THROWS_AS(decode_image({}, "empty"), Error);
}

TEST_CASE("load_image errors are vlm::Error naming the file", "[image][load][errors]") {
  const auto dir = test::temp_dir("image-errors");

  SECTION("missing file") {
    const auto message = error_of([&] { load_image(dir / "absent.png"); });
    CHECK_THAT(message, Catch::Contains("absent.png") && Catch::Contains("no such file"));
  }
  SECTION("a folder") {
    CHECK_THAT(error_of([&] { load_image(dir); }), Catch::Contains("folder"));
  }
  SECTION("not an image") {
    write_text(dir / "notes.png", "this is text, not a PNG\n");
    const auto message = error_of([&] { load_image(dir / "notes.png"); });
    CHECK_THAT(message, Catch::Contains("notes.png") && Catch::Contains("cannot read image"));
  }
  SECTION("empty file") {
    write_text(dir / "empty.jpg", "");
    CHECK_THAT(error_of([&] { load_image(dir / "empty.jpg"); }), Catch::Contains("empty.jpg"));
  }
  SECTION("truncated PNG") {
    auto bytes = read_bytes(test::image_test_data("rgb.png"));
    bytes.resize(bytes.size() * 2 / 3);  // cut inside the compressed pixel data
    write_bytes(dir / "truncated.png", bytes);
    const auto message = error_of([&] { load_image(dir / "truncated.png"); });
    CHECK_THAT(message, Catch::Contains("truncated.png"));
  }
  SECTION("corrupt pixel data in a PNG") {
    auto bytes = read_bytes(test::image_test_data("rgb.png"));
    for (size_t i = 45; i < bytes.size() - 20; ++i) bytes[i] ^= 0x5a;  // scramble the IDAT payload
    write_bytes(dir / "corrupt.png", bytes);
    CHECK_THAT(error_of([&] { load_image(dir / "corrupt.png"); }), Catch::Contains("corrupt.png"));
  }
  SECTION("a header claiming 100000x100000 pixels is refused before decoding") {
    write_text(dir / "bomb.ppm", "P6\n100000 100000\n255\n");  // a 30 GB image, no pixel data
    const auto start = std::chrono::steady_clock::now();
    const auto message = error_of([&] { load_image(dir / "bomb.ppm"); });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK_THAT(message, Catch::Contains("bomb.ppm") && Catch::Contains("10000000000 pixels") &&
                            Catch::Contains("limit of 178956970"));
    CHECK(seconds < 1.0);
  }
  SECTION("the pixel limit is configurable, and a PPM within it decodes") {
    write_text(dir / "small.ppm", std::string("P6\n2 1\n255\n") + "\x01\x02\x03\xfa\xfb\xfc");
    CHECK_THAT(error_of([&] { load_image(dir / "small.ppm", {.max_pixels = 1}); }), Catch::Contains("limit of 1"));
    const Image image = load_image(dir / "small.ppm", {.max_pixels = 2});
    CHECK(image.rgb == std::vector<uint8_t>{1, 2, 3, 250, 251, 252});
  }
  SECTION("the images of one request share a pixel tally, charged before decoding") {
    write_text(dir / "small.ppm", std::string("P6\n2 1\n255\n") + "\x01\x02\x03\xfa\xfb\xfc");
    RequestPixels pixels(5);
    const ImageLoadOptions options{.request = &pixels};
    for (int i = 0; i < 2; ++i) CHECK(load_image(dir / "small.ppm", options).width == 2);
    CHECK(pixels.used() == 4);
    CHECK_THAT(error_of([&] { load_image(dir / "small.ppm", options); }),
               Catch::Contains("small.ppm") && Catch::Contains("to 6 pixels, above the limit of 5 per request"));
    CHECK(pixels.used() == 4);  // the refused image took nothing
    CHECK(probe_image(dir / "small.ppm", options).width == 2);  // a header probe charges nothing
    CHECK(pixels.used() == 4);
  }
  SECTION("a file name with brackets is a name, not libvips options") {
    std::filesystem::copy_file(test::image_test_data("rgb.png"), dir / "photo[page=3].png");
    CHECK(load_image(dir / "photo[page=3].png").rgb == read_bytes(test::image_test_data("rgb.png.rgb")));
  }
}

TEST_CASE("load_video_frames reads a folder in natural order", "[image][load][video]") {
  const auto dir = test::temp_dir("frames");
  // Frames 0..11 as tiny PPMs whose red value is the frame number; a lexical sort would put 10 before 2.
  for (int i = 0; i < 12; ++i) {
    const std::string pixel = {char(i), char(0), char(0)};
    write_text(dir / ("frame_" + std::to_string(i) + ".ppm"), "P6\n1 1\n255\n" + pixel);
  }
  write_text(dir / "notes.txt", "ignored: not an image extension");
  const Video video = load_video_frames(dir);
  REQUIRE(video.frames.size() == 12);
  for (int i = 0; i < 12; ++i) CHECK(int(video.frames[size_t(i)].rgb[0]) == i);
  CHECK(video.fps == 0.0);

  SECTION("frames of different sizes are an error") {
    write_text(dir / "frame_12.ppm", std::string("P6\n2 1\n255\n") + std::string(6, '\0'));
    CHECK_THAT(error_of([&] { load_video_frames(dir); }), Catch::Contains("frame_12.ppm") && Catch::Contains("one size"));
  }
  SECTION("a folder of more frames than allowed is refused before decoding; frames charge the request") {
    CHECK_THAT(error_of([&] { load_video_frames(dir, {.max_video_frames = 11}); }),
               Catch::Contains("12 frames, more than the 11 a video may have"));
    RequestPixels pixels(11);
    CHECK_THAT(error_of([&] { load_video_frames(dir, {.request = &pixels}); }),
               Catch::Contains("frame_11.ppm") && Catch::Contains("above the limit of 11 per request"));
  }
  SECTION("no frames, or not a folder") {
    CHECK_THAT(error_of([&] { load_video_frames(test::temp_dir("no-frames")); }), Catch::Contains("no image files"));
    CHECK_THAT(error_of([&] { load_video_frames(dir / "notes.txt"); }), Catch::Contains("not a folder"));
  }
}

TEST_CASE("natural_less orders digit runs by value", "[image][load][video]") {
  CHECK(natural_less("frame_2.png", "frame_10.png"));
  CHECK_FALSE(natural_less("frame_10.png", "frame_2.png"));
  CHECK(natural_less("a9", "b1"));
  CHECK(natural_less("img_007", "img_08"));
  CHECK_FALSE(natural_less("same", "same"));
  CHECK(natural_less("f1", "f1a"));
}

TEST_CASE("decoding mutated files never crashes: an image or a vlm::Error", "[image][load][errors]") {
  // Deterministic byte flips, truncations and header-field rewrites of every sample format. Decoding must
  // return a consistent image or throw vlm::Error (anything else, or a crash, fails the test).
  std::mt19937 random(1234);
  int decoded = 0, refused = 0;
  for (const char* name : {"rgb.png", "palette.png", "two_frames.gif", "cmyk.tif", "rgb_420.jpg", "rgb16.png"}) {
    const auto original = read_bytes(test::image_test_data(name));
    for (int trial = 0; trial < 150; ++trial) {
      auto bytes = original;
      const int flips = 1 + int(random() % 8);
      for (int f = 0; f < flips; ++f) bytes[random() % bytes.size()] = uint8_t(random());
      if (trial % 5 == 0) bytes.resize(1 + random() % bytes.size());
      INFO(name << " trial " << trial);
      try {
        const Image image = decode_image(bytes, name, {.max_pixels = 1 << 20});
        CHECK(image.rgb.size() == size_t(image.width) * size_t(image.height) * 3);
        ++decoded;
      } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains(name));
        ++refused;
      }
    }
  }
  CHECK(refused > 0);  // the mutations do reach the decoders' error paths
}
