#include <cmath>

#include "vlm/nn/transformer.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

EncoderLayer EncoderLayer::load(const WeightLoader& w, const std::string& prefix, const EncoderLayerConfig& c,
                                const EncoderLayerNames& n) {
  if (c.hidden <= 0 || c.heads <= 0 || c.hidden % c.heads)
    fail("{}: hidden size {} must be a positive multiple of the {} heads", prefix, c.hidden, c.heads);
  EncoderLayer layer;
  layer.config_ = c;
  const std::string p = prefix + ".";
  layer.q_ = Linear::load(w, p + n.q, c.hidden, c.hidden, true);
  layer.k_ = Linear::load(w, p + n.k, c.hidden, c.hidden, true);
  layer.v_ = Linear::load(w, p + n.v, c.hidden, c.hidden, true);
  layer.attn_out_ = Linear::load(w, p + n.attn_out, c.hidden, c.hidden, true);
  layer.attn_norm_ = Norm::layer(w, p + n.attn_norm, c.hidden, c.norm_eps);
  if (c.cross_width > 0) {
    layer.cross_q_ = Linear::load(w, p + n.cross_q, c.hidden, c.hidden, true);
    layer.cross_k_ = Linear::load(w, p + n.cross_k, c.cross_width, c.hidden, true);
    layer.cross_v_ = Linear::load(w, p + n.cross_v, c.cross_width, c.hidden, true);
    layer.cross_out_ = Linear::load(w, p + n.cross_out, c.hidden, c.hidden, true);
    layer.cross_norm_ = Norm::layer(w, p + n.cross_norm, c.hidden, c.norm_eps);
  }
  layer.fc1_ = Linear::load(w, p + n.fc1, c.hidden, c.intermediate, true);
  layer.fc2_ = Linear::load(w, p + n.fc2, c.intermediate, c.hidden, true);
  layer.mlp_norm_ = Norm::layer(w, p + n.mlp_norm, c.hidden, c.norm_eps);
  return layer;
}

void EncoderLayer::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderLayerConfig& c,
                           const EncoderLayerNames& n) {
  const std::string p = prefix + ".";
  for (const auto* name : {&n.q, &n.k, &n.v, &n.attn_out}) add_linear(specs, p + *name, c.hidden, c.hidden, true);
  add_norm(specs, p + n.attn_norm, c.hidden, true);
  if (c.cross_width > 0) {
    add_linear(specs, p + n.cross_q, c.hidden, c.hidden, true);
    add_linear(specs, p + n.cross_k, c.cross_width, c.hidden, true);
    add_linear(specs, p + n.cross_v, c.cross_width, c.hidden, true);
    add_linear(specs, p + n.cross_out, c.hidden, c.hidden, true);
    add_norm(specs, p + n.cross_norm, c.hidden, true);
  }
  add_linear(specs, p + n.fc1, c.hidden, c.intermediate, true);
  add_linear(specs, p + n.fc2, c.intermediate, c.hidden, true);
  add_norm(specs, p + n.mlp_norm, c.hidden, true);
}

void EncoderLayer::add_ops(std::vector<Op>& ops) {
  vlm::add_ops(ops, {Op::Matmul, Op::Attention, Op::Add, Op::LayerNorm, Op::Activation});
}

void EncoderLayer::forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross,
                           std::span<const int64_t> cross_segments) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t N = x.dim(0), head_dim = c.hidden / c.heads;
  const Shape heads{N, c.heads, head_dim};
  AttentionParams params;
  params.scale = 1.0f / std::sqrt(float(head_dim));

  // x = LN(x + O(attention(q, k, v))): post-norm, the residual added before the norm.
  auto sublayer_end = [&](const Linear& out, const Norm& norm, const Tensor& attn) {
    Tensor projected = ws.get("enc.proj", x.shape());
    out.forward(be, attn, projected);
    be.add(projected, x, projected);
    norm.forward(be, projected, x);
  };
  Tensor q = ws.get("enc.q", heads), k = ws.get("enc.k", heads), v = ws.get("enc.v", heads);
  q_.forward(be, x, q);
  k_.forward(be, x, k);
  v_.forward(be, x, v);
  Tensor attn = ws.get("enc.attn", heads);
  attend_segments(be, q, k, v, attn, segments, segments, params);
  sublayer_end(attn_out_, attn_norm_, attn);

  if (c.cross_width > 0) {
    if (!cross || cross->rank() != 2 || cross->dim(1) != c.cross_width)
      fail("encoder layer: cross-attention needs states [M, {}], got {}", c.cross_width,
           cross ? cross->shape().str() : std::string("none"));
    const int64_t M = cross->dim(0);
    Tensor ck = ws.get("enc.cross_k", Shape{M, c.heads, head_dim}), cv = ws.get("enc.cross_v", Shape{M, c.heads, head_dim});
    cross_q_.forward(be, x, q);
    cross_k_.forward(be, *cross, ck);
    cross_v_.forward(be, *cross, cv);
    attend_segments(be, q, ck, cv, attn, segments, cross_segments, params);
    sublayer_end(cross_out_, cross_norm_, attn);
  } else if (cross) {
    fail("encoder layer: cross-attention states given to a layer without cross-attention");
  }

  Tensor hidden = ws.get("enc.mlp", Shape{N, c.intermediate});
  fc1_.forward(be, x, hidden);
  be.activation(c.activation, hidden, hidden);
  Tensor projected = ws.get("enc.proj", x.shape());
  fc2_.forward(be, hidden, projected);
  be.add(projected, x, projected);
  mlp_norm_.forward(be, projected, x);
}

namespace {

EncoderLayerConfig layer_config(const EncoderStackConfig& c, int64_t index) {
  EncoderLayerConfig layer = c.layer;
  if (!c.has_cross(index)) layer.cross_width = 0;
  return layer;
}

}  // namespace

EncoderStack EncoderStack::load(const WeightLoader& w, const std::string& prefix, const EncoderStackConfig& c,
                                const EncoderLayerNames& n) {
  EncoderStack stack;
  for (int64_t i = 0; i < c.layers; ++i)
    stack.layers_.push_back(EncoderLayer::load(w, prefix + "." + std::to_string(i), layer_config(c, i), n));
  return stack;
}

void EncoderStack::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderStackConfig& c,
                           const EncoderLayerNames& n) {
  for (int64_t i = 0; i < c.layers; ++i) EncoderLayer::declare(specs, prefix + "." + std::to_string(i), layer_config(c, i), n);
}

void EncoderStack::forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross,
                           std::span<const int64_t> cross_segments) const {
  for (const auto& layer : layers_)
    layer.forward(ws, x, segments, layer.config().cross_width > 0 ? cross : nullptr, cross_segments);
}

}  // namespace vlm
