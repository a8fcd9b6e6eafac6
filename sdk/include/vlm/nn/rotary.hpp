#pragma once
// Rotary position tables in the Hugging Face "rotate_half" layout: for a rotary width D the table row of a
// position is [cos(p*f_0) .. cos(p*f_{D/2-1}), cos(p*f_0) .. cos(p*f_{D/2-1})] (same for sin). One apply
// op (Backend::rotary) serves the three forms the families use; only the tables differ.
#include <array>
#include <span>
#include <string>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm {

// inv_freq[i] = 1 / theta^(2i / dim), i < dim/2, rounded to f32 as torch computes it.
std::vector<float> rope_inverse_frequencies(int64_t dim, double theta);

// config.json's rope_scaling, for the types whose effect is a change of inv_freq (transformers'
// modeling_rope_utils): "default", "linear" (inv_freq / factor) and "llama3" (long wavelengths divided by
// factor, a smooth blend between low_freq_factor and high_freq_factor). Other types are refused by name.
struct RopeScaling {
  std::string type = "default";
  double factor = 1.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // From the rope_scaling object (absent or null: default); Error names the key.
  static RopeScaling from(const ConfigView& rope_scaling);
};
std::vector<float> rope_inverse_frequencies(int64_t dim, double theta, const RopeScaling& scaling);

// 1-D text rotary: cos/sin [rows, 2*inv_freq.size()] for one position per row.
void rope_tables_1d(std::span<const int64_t> positions, std::span<const float> inv_freq, Tensor& cos, Tensor& sin);

// 2-D vision rotary (Qwen2-VL): each row has a (h, w) position; the half-table is
// [h*f_0 .. h*f_{n-1}, w*f_0 .. w*f_{n-1}], duplicated for rotate_half (width 4n).
void rope_tables_2d(std::span<const int64_t> h, std::span<const int64_t> w, std::span<const float> inv_freq, Tensor& cos,
                    Tensor& sin);

// Multimodal rotary (Qwen2-VL M-RoPE): positions [3][rows] (temporal, height, width); frequency i uses the
// position stream of the section it falls in (sections sum to inv_freq.size()).
void rope_tables_mrope(std::span<const int64_t> positions_thw, int64_t rows, std::span<const float> inv_freq,
                       const std::array<int64_t, 3>& sections, Tensor& cos, Tensor& sin);

}  // namespace vlm
