#pragma once
// Per-axis resampling weights computed as Pillow's precompute_coeffs + normalize_coeffs_8bpc do, so the
// fixed-point sums in resize.cpp reproduce PIL.Image.resize exactly (internal to vlm_core).
#include <cstdint>
#include <vector>

#include "vlm/image/resize.hpp"

namespace vlm::image_detail {

// Fixed-point fraction bits of the 8-bit path: 32 bits minus 8 for the value minus 2 of headroom, because
// filters with negative lobes can sum past 1 or below 0 before clipping.
inline constexpr int kWeightFractionBits = 32 - 8 - 2;

struct AxisWeights {
  int taps = 0;                  // weights stored per output position (the largest support)
  std::vector<int> first_input;  // first input index read for each output position
  std::vector<int> input_count;  // inputs read for each output position (<= taps)
  std::vector<int32_t> weights;  // output_size * taps, fixed point with kWeightFractionBits
};

// Weights mapping `input_size` samples to `output_size` (the whole axis, no box). Not for Nearest.
AxisWeights compute_axis_weights(int input_size, int output_size, Resample filter);

// Rounds a fixed-point sum back to 8 bits as Pillow's clip8 does: drop the fraction bits, clamp to [0, 255].
inline uint8_t fixed_point_to_u8(int32_t sum) {
  const int32_t value = sum >> kWeightFractionBits;
  return uint8_t(value < 0 ? 0 : value > 255 ? 255 : value);
}

}  // namespace vlm::image_detail
