#pragma once
// Which frames of a video the model sees, as Qwen2-VL's reference utilities (qwen-vl-utils smart_nframes)
// choose them: a count, or a rate (frames per second of video) clamped to [4, min(768, total)], rounded to
// an even number, then evenly spaced indices round(linspace(0, total - 1, n)).
#include <cstdint>
#include <optional>
#include <vector>

#include "vlm/image/image.hpp"

namespace vlm {

struct FrameSampling {
  std::optional<int64_t> frames;  // an exact count (rounded to even)
  std::optional<double> fps;      // a rate; needs the video's own frame rate (Video::fps)
};

std::vector<int64_t> sample_frame_indices(int64_t total_frames, double video_fps, const FrameSampling& sampling);
// Keeps the sampled frames of `video` (no-op when neither count nor rate is set).
void sample_frames(Video& video, const FrameSampling& sampling);

}  // namespace vlm
