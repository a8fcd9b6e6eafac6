#pragma once
// Qwen2-VL's 3-D position ids (HF get_rope_index): text tokens advance all three streams together; an
// image or video occupies a (t, h/merge, w/merge) block of positions starting after the preceding text,
// and the text after it continues from the block's largest position + 1. Padding positions are 1.
#include <cstdint>
#include <vector>

#include "qwen2_vl_config.hpp"
#include "qwen2_vl_grids.hpp"

namespace vlm::qwen2_vl {

struct RopeIndex {
  std::vector<int64_t> positions;  // [3][batch][length]
  std::vector<int64_t> deltas;     // [batch]: decode position = cache length + delta
};

// ids/mask [batch, length]; image and video grids in prompt order across the whole batch.
RopeIndex rope_index(const Config& config, const int64_t* ids, const int64_t* mask, int64_t batch, int64_t length,
                     const std::vector<Grid>& image_grids,
                     const std::vector<Grid>& video_grids);

}  // namespace vlm::qwen2_vl
