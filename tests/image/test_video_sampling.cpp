// Frame sampling as qwen-vl-utils' smart_nframes + linspace does.
#include <catch2/catch.hpp>

#include "vlm/image/video_sampling.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;
using Indices = std::vector<int64_t>;

TEST_CASE("frames are sampled by count or rate like qwen-vl-utils", "[image][video]") {
  // torch.linspace(0, 9, 4).round() = [0, 3, 6, 9]
  CHECK(sample_frame_indices(10, 0, {4, std::nullopt}) == Indices{0, 3, 6, 9});
  // A count rounds to even: 5 -> 4 (half to even of 2.5 is 2).
  CHECK(sample_frame_indices(10, 0, {5, std::nullopt}).size() == 4);
  // 100 frames at 25 fps sampled at 2 fps: 8 frames, linspace(0, 99, 8).round().
  CHECK(sample_frame_indices(100, 25.0, {std::nullopt, 2.0}) == Indices{0, 14, 28, 42, 57, 71, 85, 99});
  // A short clip is clamped up to the minimum of 4 frames.
  CHECK(sample_frame_indices(6, 30.0, {std::nullopt, 2.0}).size() == 4);
  // No sampling asked: every frame.
  CHECK(sample_frame_indices(3, 0, {}) == Indices{0, 1, 2});
  CHECK_THROWS_WITH(sample_frame_indices(10, 0, {std::nullopt, 2.0}), Catch::Contains("frame rate"));
  CHECK_THROWS_WITH(sample_frame_indices(3, 0, {4, std::nullopt}), Catch::Contains("cannot sample 4 frames"));
}
