#include "vlm/nn/layers.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

Linear Linear::load(const WeightLoader& weights, const std::string& prefix, int64_t in, int64_t out, bool bias,
                    std::string_view separator) {
  Linear l;
  l.in = in;
  l.out = out;
  const std::string stem = prefix + std::string(separator);
  l.weight = weights.load_matrix(stem + "weight", Shape{out, in});
  if (bias) l.bias = weights.load(stem + "bias", Shape{out});
  return l;
}

void Linear::forward(Backend& backend, const Tensor& x, Tensor& y) const {
  // Callers keep their own shapes ([B, S, heads, head_dim], ...); the matmul sees [rows, features].
  const Tensor x2 = x.reshape(Shape{x.numel() / in, in});
  Tensor y2 = y.reshape(Shape{y.numel() / out, out});
  backend.matmul(x2, weight, bias.defined() ? &bias : nullptr, y2, true);
}

Norm Norm::rms(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps) {
  Norm n;
  n.kind = Kind::Rms;
  n.eps = eps;
  n.weight = weights.load(prefix + ".weight", Shape{dim});
  return n;
}

Norm Norm::layer(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps, bool bias) {
  Norm n;
  n.kind = Kind::Layer;
  n.eps = eps;
  n.weight = weights.load(prefix + ".weight", Shape{dim});
  if (bias) n.bias = weights.load(prefix + ".bias", Shape{dim});
  return n;
}

void Norm::forward(Backend& backend, const Tensor& x, Tensor& y) const {
  Tensor y2 = y.reshape(x.shape());  // same elements, the caller's view of them
  if (kind == Kind::Rms)
    backend.rms_norm(x, weight, eps, y2);
  else
    backend.layer_norm(x, weight, bias.defined() ? &bias : nullptr, eps, y2);
}

void attend_segments(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                     std::span<const int64_t> q_segments, std::span<const int64_t> kv_segments,
                     const AttentionParams& params, const SegmentMasks& masks) {
  const int64_t nq = q.dim(0), nk = k.dim(0);
  const std::vector<int64_t> whole_q{nq}, whole_k{nk};
  const auto qs = q_segments.empty() ? std::span<const int64_t>(whole_q) : q_segments;
  const auto ks = kv_segments.empty() ? std::span<const int64_t>(whole_k) : kv_segments;
  if (qs.size() != ks.size())
    fail("attention: {} query segments but {} key/value segments", qs.size(), ks.size());
  auto view = [](const Tensor& t, int64_t start, int64_t len) {
    return t.rows(start, len).reshape(Shape{1, len, t.dim(1), t.dim(2)});
  };
  if (masks.keys && (masks.keys->rank() != 2 || masks.keys->dim(0) != int64_t(ks.size())))
    fail("attention: key masks {} must have one row per segment ({})", masks.keys->shape().str(), ks.size());
  if (masks.additive && (masks.additive->rank() != 3 || masks.additive->dim(0) != int64_t(ks.size())))
    fail("attention: additive masks {} must have one [L, L] block per segment ({})", masks.additive->shape().str(),
         ks.size());
  int64_t q_start = 0, k_start = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    if (qs[i] <= 0 || ks[i] <= 0 || q_start + qs[i] > nq || k_start + ks[i] > nk)
      fail("attention: segment {} ({} queries, {} keys) does not fit {} queries and {} keys", i, qs[i], ks[i], nq, nk);
    Tensor out_rows = view(out, q_start, qs[i]);
    AttentionParams segment = params;
    Tensor key_row, additive_block;
    if (masks.keys) {
      if (masks.keys->dim(1) != ks[i])
        fail("attention: key mask rows of {} for a segment of {} keys", masks.keys->dim(1), ks[i]);
      key_row = masks.keys->rows(int64_t(i), 1);
      segment.key_mask = &key_row;
    }
    if (masks.additive) {
      if (masks.additive->dim(1) != qs[i] || masks.additive->dim(2) != ks[i])
        fail("attention: an additive mask of {} for a segment of {} queries and {} keys", masks.additive->shape().str(),
             qs[i], ks[i]);
      additive_block = masks.additive->rows(int64_t(i), 1).reshape(Shape{1, 1, qs[i], ks[i]});
      segment.additive_mask = &additive_block;
    }
    backend.attention(view(q, q_start, qs[i]), view(k, k_start, ks[i]), view(v, k_start, ks[i]), out_rows, segment);
    q_start += qs[i];
    k_start += ks[i];
  }
  if (q_start != nq || k_start != nk)
    fail("attention: segments cover {} of {} queries and {} of {} keys", q_start, nq, k_start, nk);
}

Activation activation_from_name(const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "gelu") return Activation::GeluErf;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  fail("activation '{}' is not supported (silu, gelu, gelu_pytorch_tanh, gelu_new, quick_gelu, relu)", name);
}

}  // namespace vlm
