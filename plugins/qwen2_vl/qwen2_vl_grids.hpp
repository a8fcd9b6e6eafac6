#pragma once
// image_grid_thw / video_grid_thw: one (t, h, w) patch grid per image or video, read in one place by the
// processor (placeholder counts), the vision tower (positions, segments) and the decoder (feature split).
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vlm/model/components.hpp"

namespace vlm::qwen2_vl {

using Grid = std::array<int64_t, 3>;

// The grids of tensor `name` ([n, 3] i64); empty when absent. Error on any other shape or dtype.
std::vector<Grid> read_grids(const TensorMap& tensors, std::string_view name);
// Tokens a grid occupies in the text after the merger: t * h * w / merge^2.
inline int64_t merged_tokens(const Grid& g, int64_t merge) { return g[0] * g[1] * g[2] / (merge * merge); }

}  // namespace vlm::qwen2_vl
