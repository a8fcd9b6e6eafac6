#include "vlm/image/video_sampling.hpp"

#include <algorithm>
#include <cmath>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {
constexpr int64_t kFrameFactor = 2, kMinFrames = 4, kMaxFrames = 768;
// Python's round() (half to even) of x / factor, times factor.
int64_t round_by_factor(double x, int64_t factor) { return int64_t(std::nearbyint(x / double(factor))) * factor; }
}  // namespace

std::vector<int64_t> sample_frame_indices(int64_t total, double video_fps, const FrameSampling& s) {
  if (total <= 0) fail("video has no frames");
  int64_t n = 0;
  if (s.frames) {
    n = round_by_factor(double(*s.frames), kFrameFactor);
  } else if (s.fps) {
    if (video_fps <= 0)
      fail("sampling at {} fps needs the video's own frame rate (give it for a folder of frames)", *s.fps);
    const int64_t min_frames = int64_t(std::ceil(double(kMinFrames) / kFrameFactor)) * kFrameFactor;
    const int64_t max_frames = std::min(kMaxFrames, total) / kFrameFactor * kFrameFactor;
    const double wanted = double(total) / video_fps * *s.fps;
    n = round_by_factor(std::min(std::max(wanted, double(min_frames)), double(max_frames)), kFrameFactor);
  } else {
    std::vector<int64_t> all(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) all[size_t(i)] = i;
    return all;
  }
  if (n < kFrameFactor || n > total)
    fail("cannot sample {} frames from a video of {} frames (the count must be even, between {} and {})", n, total,
         kFrameFactor, total);
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < n; ++i) {
    // torch.linspace in f32, then round (half to even).
    const float step = n > 1 ? float(total - 1) / float(n - 1) : 0.0f;
    indices.push_back(int64_t(std::nearbyint(float(i) * step)));
  }
  return indices;
}

void sample_frames(Video& video, const FrameSampling& sampling) {
  if (!sampling.frames && !sampling.fps) return;
  const auto indices = sample_frame_indices(int64_t(video.frames.size()), video.fps, sampling);
  std::vector<Image> kept;
  for (const int64_t i : indices) kept.push_back(video.frames[size_t(i)]);
  video.frames = std::move(kept);
}

}  // namespace vlm
