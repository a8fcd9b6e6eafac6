#pragma once
// The smallest building blocks: a Linear layer and RMS / Layer normalisation, loaded by HF name prefix.
#include <span>
#include <string>
#include <string_view>

#include "vlm/nn/weights.hpp"

namespace vlm {

struct Linear {
  Tensor weight;  // [out, in], stored dtype
  Tensor bias;    // [out] or undefined
  int64_t in = 0, out = 0;

  // prefix + separator + "weight" / "bias"; separator "_" reads nn.MultiheadAttention's in_proj_weight.
  static Linear load(const WeightLoader& weights, const std::string& prefix, int64_t in, int64_t out, bool bias,
                     std::string_view separator = ".");
  // x [rows, in] (any leading dims) -> y [rows, out]
  void forward(Backend& backend, const Tensor& x, Tensor& y) const;
};

struct Norm {
  enum class Kind { Rms, Layer };
  Kind kind = Kind::Rms;
  Tensor weight, bias;  // bias only for LayerNorm with bias
  float eps = 1e-6f;

  static Norm rms(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps);
  static Norm layer(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps, bool bias = true);
  void forward(Backend& backend, const Tensor& x, Tensor& y) const;
};

// Bidirectional attention of q [Nq, heads, D] over k, v [Nk, kv_heads, D] in independent segments: the
// i-th run of q_segments rows attends to the i-th run of kv_segments rows only (one image, one sequence;
// empty = one segment each). out [Nq, heads, Dv]. Lengths must add up; `params` applies to every segment.
// Per-segment masks, on the backend; with either, every segment has the same length L (the padded images
// of one batch).
struct SegmentMasks {
  const Tensor* keys = nullptr;      // [segments, L] u8: row i the keys segment i may attend (1)
  const Tensor* additive = nullptr;  // [segments, L, L] f32: added to segment i's scores (queries x keys)
};
void attend_segments(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                     std::span<const int64_t> q_segments, std::span<const int64_t> kv_segments,
                     const AttentionParams& params, const SegmentMasks& masks = {});

// Activation names as they appear in HF configs ("silu", "gelu", "gelu_pytorch_tanh", "quick_gelu", ...).
Activation activation_from_name(const std::string& name);

}  // namespace vlm
