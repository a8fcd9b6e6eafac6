// Qwen2-VL image processor: parity with transformers 4.47.1 on the fixtures (pixel_values within 1e-5,
// grids identical), smart_resize semantics, configuration, errors, and large inputs.
#include <algorithm>
#include <chrono>
#include <cmath>

#include <catch2/catch.hpp>

#include "image_test_helpers.hpp"
#include "qwen2_vl_image_processor.hpp"
#include "support/shared_data.hpp"
#include "vlm/image/load.hpp"
#include "vlm/io/safetensors.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;
using Qwen2VLImageProcessor = qwen2_vl::ImageProcessor;
using qwen2_vl::ResizedSize;
using qwen2_vl::smart_resize;

namespace {

// Largest |a - b| over two f32 tensors of the same shape.
double max_abs_difference(const Tensor& actual, const Tensor& expected) {
  REQUIRE(actual.shape() == expected.shape());
  REQUIRE(actual.dtype() == DType::F32);
  const Tensor reference = expected.to(DType::F32);
  double worst = 0.0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    worst = std::max(worst, std::fabs(double(actual.data<float>()[i]) - double(reference.data<float>()[i])));
  return worst;
}

std::vector<int64_t> int_values(const Tensor& t) {
  std::vector<int64_t> values;
  for (int64_t i = 0; i < t.numel(); ++i) values.push_back(int64_t(t.item(i)));
  return values;
}

// The fixture's inputs of each case, in the order the reference run passed them.
struct FixtureCase {
  const char* name;
  std::vector<const char*> images;
  std::vector<const char*> video_frames;
};

void check_fixture(const std::filesystem::path& dir, const FixtureCase& c) {
  INFO("case " << c.name);
  const auto processor = Qwen2VLImageProcessor::from(ConfigView::load(dir / "checkpoint" / "preprocessor_config.json"));
  std::vector<Image> images;
  for (const char* name : c.images) images.push_back(load_image(dir / "inputs" / name));
  std::vector<Video> videos;
  if (!c.video_frames.empty()) {
    // Through load_video_frames, from a folder holding just this video's frames.
    const auto folder = test::temp_dir("qwen-video");
    for (const char* name : c.video_frames) std::filesystem::copy_file(dir / "inputs" / name, folder / name);
    videos.push_back(load_video_frames(folder));
  }
  const TensorMap out = processor->preprocess(images, videos);
  const auto reference = SafetensorsFile::open(dir / "reference.safetensors");
  const std::string prefix = std::string(c.name) + ".";
  const auto compare = [&](const char* values, const char* grid) {
    REQUIRE(out.count(values) == 1);
    REQUIRE(out.count(grid) == 1);
    const double error = max_abs_difference(out.at(values), reference->tensor(prefix + values));
    INFO(values << " max abs error " << error);
    CHECK(error <= 1e-5);  // tolerance of the task; the port is expected to be exact (0)
    CHECK(out.at(grid).dtype() == DType::I64);
    CHECK(out.at(grid).shape() == reference->tensor(prefix + grid).shape());
    CHECK(int_values(out.at(grid)) == int_values(reference->tensor(prefix + grid)));
  };
  if (!c.images.empty()) compare("pixel_values", "image_grid_thw");
  if (!c.video_frames.empty()) compare("pixel_values_videos", "video_grid_thw");
  CHECK(out.size() == (c.images.empty() ? 0u : 2u) + (c.video_frames.empty() ? 0u : 2u));
}

Qwen2VLImageProcessor default_processor(int64_t min_pixels = 56 * 56, int64_t max_pixels = 28 * 28 * 1280) {
  qwen2_vl::ImageProcessorConfig config;
  config.min_pixels = min_pixels;
  config.max_pixels = max_pixels;
  return Qwen2VLImageProcessor(config);
}

}  // namespace

TEST_CASE("qwen2_vl pixel_values match transformers 4.47.1 on every fixture case", "[qwen2_vl][image][fixture]") {
  {
    VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
    check_fixture(dir, {"single", {"image_single.png"}, {}});
    check_fixture(dir, {"multi", {"image_multi_a.png", "image_multi_b.png"}, {}});
    check_fixture(dir, {"batch", {"image_batch_0.png", "image_batch_1.png"}, {}});
    check_fixture(dir, {"video", {}, {"video_frame_0.png", "video_frame_1.png", "video_frame_2.png", "video_frame_3.png"}});
  }
  {
    VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl-bf16");
    check_fixture(dir, {"single", {"image_single.png"}, {}});
  }
}

TEST_CASE("smart_resize follows transformers 4.47 (Python round half to even, floor/ceil by factor)",
          "[qwen2_vl][image]") {
  // Expected values from 4.47's smart_resize run in Python.
  const int64_t min_pixels = 56 * 56, max_pixels = 28 * 28 * 1280;
  CHECK(smart_resize(42, 70, 28, min_pixels, max_pixels, "x") == ResizedSize{56, 56});  // 1.5 -> 2, 2.5 -> 2
  CHECK(smart_resize(30, 30, 28, min_pixels, max_pixels, "x") == ResizedSize{56, 56});
  CHECK(smart_resize(29, 31, 28, min_pixels, max_pixels, "x") == ResizedSize{56, 84});
  CHECK(smart_resize(33, 100, 28, min_pixels, max_pixels, "x") == ResizedSize{28, 112});
  CHECK(smart_resize(1080, 1920, 28, min_pixels, max_pixels, "x") == ResizedSize{728, 1316});
  CHECK(smart_resize(3000, 4000, 28, min_pixels, max_pixels, "x") == ResizedSize{840, 1148});
  CHECK(smart_resize(20000, 20000, 28, min_pixels, max_pixels, "x") == ResizedSize{980, 980});
  CHECK(smart_resize(28, 5600, 28, min_pixels, max_pixels, "x") == ResizedSize{28, 5600});  // ratio exactly 200
  CHECK(smart_resize(120, 200, 28, 3136, 18816, "x") == ResizedSize{84, 168});
  CHECK(smart_resize(53, 37, 28, 3136, 18816, "x") == ResizedSize{84, 56});
}

TEST_CASE("qwen2_vl image errors name the image", "[qwen2_vl][image][errors]") {
  const Qwen2VLImageProcessor processor = default_processor();
  Image small = test::pattern_image(100, 27);
  small.source = "thin.png";
  try {
    processor.preprocess(std::span<const Image>(&small, 1), {});
    FAIL("a 27-pixel-high image must be refused");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("thin.png") && Catch::Contains("at least 28"));
  }
  Image panorama = test::pattern_image(5629, 28);  // 201 : 1
  panorama.source = "panorama.png";
  CHECK_THROWS_WITH(processor.preprocess(std::span<const Image>(&panorama, 1), {}),
                    Catch::Contains("panorama.png") && Catch::Contains("aspect ratio"));
  const Video empty{{}, 0.0, "clip"};
  CHECK_THROWS_WITH(processor.preprocess({}, std::span<const Video>(&empty, 1)), Catch::Contains("clip"));
  CHECK(processor.preprocess({}, {}).empty());
}

TEST_CASE("qwen2_vl configuration: defaults, size dict, overrides", "[qwen2_vl][image][config]") {
  SECTION("an empty preprocessor_config gives Qwen2VLImageProcessor's defaults") {
    const auto c = qwen2_vl::ImageProcessorConfig::from(ConfigView::parse("{}", "preprocessor_config.json"));
    CHECK(c.min_pixels == 3136);
    CHECK(c.max_pixels == 1003520);
    CHECK(c.resample == Resample::Bicubic);
    CHECK(c.patch_size == 14);
    CHECK(c.merge_size == 2);
    CHECK(c.temporal_patch_size == 2);
    CHECK(c.normalization.mean[0] == 0.48145466f);
    CHECK(c.normalization.std[2] == 0.27577711f);
  }
  SECTION("min/max pixels from the size dict, under either name; top-level keys win") {
    auto c = qwen2_vl::ImageProcessorConfig::from(
        ConfigView::parse(R"({"size": {"shortest_edge": 1000, "longest_edge": 2000}})", "p.json"));
    CHECK((c.min_pixels == 1000 && c.max_pixels == 2000));
    c = qwen2_vl::ImageProcessorConfig::from(
        ConfigView::parse(R"({"min_pixels": 10, "size": {"min_pixels": 1000, "max_pixels": 2000}})", "p.json"));
    CHECK((c.min_pixels == 10 && c.max_pixels == 2000));
  }
  SECTION("overrides replace min/max pixels; unknown keys and bad values are errors") {
    const auto view = ConfigView::parse(R"({"min_pixels": 3136, "max_pixels": 18816})", "p.json");
    const auto c = qwen2_vl::ImageProcessorConfig::from(view, Json{{"max_pixels", 50000}});
    CHECK((c.min_pixels == 3136 && c.max_pixels == 50000));
    CHECK_THROWS_WITH(qwen2_vl::ImageProcessorConfig::from(view, Json{{"max_pixel", 5}}), Catch::Contains("max_pixel"));
    CHECK_THROWS_WITH(qwen2_vl::ImageProcessorConfig::from(view, Json{{"max_pixels", 100}}),
                      Catch::Contains("min_pixels"));
    CHECK_THROWS_AS(qwen2_vl::ImageProcessorConfig::from(ConfigView::parse(R"({"resample": 9})", "p.json")), Error);
    CHECK_THROWS_AS(qwen2_vl::ImageProcessorConfig::from(ConfigView::parse(R"({"image_mean": [1, 2]})", "p.json")),
                    Error);
  }
}

TEST_CASE("qwen2_vl videos: single frames tile, odd frame counts repeat the last frame", "[qwen2_vl][image][video]") {
  const Qwen2VLImageProcessor processor = default_processor(3136, 18816);
  const Image a = test::pattern_image(64, 48), b = test::constant_image(64, 48, 10, 200, 30);
  const Image c = test::constant_image(64, 48, 250, 0, 128);
  const TensorMap one = processor.preprocess({}, std::vector<Video>{{{a}, 0.0, "one"}});
  const TensorMap three = processor.preprocess({}, std::vector<Video>{{{a, b, c}, 0.0, "three"}});
  const TensorMap four = processor.preprocess({}, std::vector<Video>{{{a, b, c, c}, 0.0, "four"}});
  const TensorMap image = processor.preprocess(std::vector<Image>{a}, {});
  CHECK(int_values(one.at("video_grid_thw")) == std::vector<int64_t>{1, 4, 4});
  CHECK(int_values(three.at("video_grid_thw")) == std::vector<int64_t>{2, 4, 4});
  // A one-frame video is the image tiled to the temporal patch, exactly like an image.
  CHECK(max_abs_difference(one.at("pixel_values_videos"), image.at("pixel_values")) == 0.0);
  // Three frames = the same as four frames whose last is repeated.
  CHECK(max_abs_difference(three.at("pixel_values_videos"), four.at("pixel_values_videos")) == 0.0);
}

TEST_CASE("qwen2_vl downsizes a large image by max_pixels straight from 8-bit pixels", "[qwen2_vl][image][large]") {
  const Qwen2VLImageProcessor processor = default_processor();
  const Image large = test::pattern_image(4000, 3000);
  const TensorMap out = processor.preprocess(std::span<const Image>(&large, 1), {});
  // smart_resize(3000, 4000) = (840, 1148): 60 x 82 patches of 2 x 3 x 14 x 14.
  CHECK(int_values(out.at("image_grid_thw")) == std::vector<int64_t>{1, 60, 82});
  CHECK(out.at("pixel_values").shape() == Shape{60 * 82, 1176});
}

// 1.2 GB of pixels; run explicitly: test_image "[slow]".
TEST_CASE("qwen2_vl handles a 20000x20000 image within max_pixels", "[.][slow][qwen2_vl][image][large]") {
  const Qwen2VLImageProcessor processor = default_processor();
  const Image huge = test::constant_image(20000, 20000, 30, 60, 90);
  const auto start = std::chrono::steady_clock::now();
  const TensorMap out = processor.preprocess(std::span<const Image>(&huge, 1), {});
  WARN("20000x20000 -> 980x980 took "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  CHECK(int_values(out.at("image_grid_thw")) == std::vector<int64_t>{1, 70, 70});
}
