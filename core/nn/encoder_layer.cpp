#include <cmath>

#include "vlm/nn/transformer.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

Norm load_norm(const WeightLoader& w, const std::string& name, const EncoderLayerConfig& c) {
  return c.rms_norm ? Norm::rms(w, name, c.hidden, c.norm_eps) : Norm::layer(w, name, c.hidden, c.norm_eps, c.bias);
}

}  // namespace

EncoderLayer EncoderLayer::load(const WeightLoader& w, const std::string& prefix, const EncoderLayerConfig& c,
                                const EncoderLayerNames& n) {
  if (c.hidden <= 0 || c.heads <= 0 || (!c.head_dim && c.hidden % c.heads))
    fail("{}: hidden size {} must be a positive multiple of the {} heads", prefix, c.hidden, c.heads);
  EncoderLayer layer;
  layer.config_ = c;
  const std::string p = prefix + ".";
  const int64_t inner = c.heads * c.heads_dim();
  layer.q_ = Linear::load(w, p + n.q, c.hidden, inner, c.bias);
  layer.k_ = Linear::load(w, p + n.k, c.hidden, inner, c.bias);
  layer.v_ = Linear::load(w, p + n.v, c.hidden, inner, c.bias);
  layer.attn_out_ = Linear::load(w, p + n.attn_out, inner, c.hidden, c.bias);
  layer.attn_norm_ = load_norm(w, p + n.attn_norm, c);
  if (c.cross_width > 0) {
    layer.cross_q_ = Linear::load(w, p + n.cross_q, c.hidden, inner, c.bias);
    layer.cross_k_ = Linear::load(w, p + n.cross_k, c.cross_width, inner, c.bias);
    layer.cross_v_ = Linear::load(w, p + n.cross_v, c.cross_width, inner, c.bias);
    layer.cross_out_ = Linear::load(w, p + n.cross_out, inner, c.hidden, c.bias);
    layer.cross_norm_ = load_norm(w, p + n.cross_norm, c);
  }
  layer.fc1_ = Linear::load(w, p + n.fc1, c.hidden, c.intermediate, c.bias);
  if (c.gated_mlp) layer.up_ = Linear::load(w, p + n.up, c.hidden, c.intermediate, c.bias);
  layer.fc2_ = Linear::load(w, p + n.fc2, c.intermediate, c.hidden, c.bias);
  layer.mlp_norm_ = load_norm(w, p + n.mlp_norm, c);
  return layer;
}

void EncoderLayer::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderLayerConfig& c,
                           const EncoderLayerNames& n) {
  const std::string p = prefix + ".";
  const int64_t inner = c.heads * c.heads_dim();
  const bool norm_bias = c.bias && !c.rms_norm;
  for (const auto* name : {&n.q, &n.k, &n.v}) add_linear(specs, p + *name, c.hidden, inner, c.bias);
  add_linear(specs, p + n.attn_out, inner, c.hidden, c.bias);
  add_norm(specs, p + n.attn_norm, c.hidden, norm_bias);
  if (c.cross_width > 0) {
    add_linear(specs, p + n.cross_q, c.hidden, inner, c.bias);
    add_linear(specs, p + n.cross_k, c.cross_width, inner, c.bias);
    add_linear(specs, p + n.cross_v, c.cross_width, inner, c.bias);
    add_linear(specs, p + n.cross_out, inner, c.hidden, c.bias);
    add_norm(specs, p + n.cross_norm, c.hidden, norm_bias);
  }
  add_linear(specs, p + n.fc1, c.hidden, c.intermediate, c.bias);
  if (c.gated_mlp) add_linear(specs, p + n.up, c.hidden, c.intermediate, c.bias);
  add_linear(specs, p + n.fc2, c.intermediate, c.hidden, c.bias);
  add_norm(specs, p + n.mlp_norm, c.hidden, norm_bias);
}

void EncoderLayer::add_ops(std::vector<Op>& ops, const EncoderLayerConfig& c) {
  vlm::add_ops(ops, {Op::Matmul, Op::Attention, Op::Add, c.rms_norm ? Op::RmsNorm : Op::LayerNorm,
                     c.gated_mlp ? Op::GatedActivation : Op::Activation});
}

void EncoderLayer::forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross,
                           std::span<const int64_t> cross_segments, const Tensor* position_bias) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t N = x.dim(0), head_dim = c.heads_dim();
  const Shape heads{N, c.heads, head_dim};
  AttentionParams params;
  params.scale = c.attention_scale > 0 ? c.attention_scale : 1.0f / std::sqrt(float(head_dim));
  if (position_bias && segments.size() > 1) fail("encoder layer: a position bias covers one segment, got {}", segments.size());

  // Where the norm sits: before the sublayer (its input) or after the residual (its output).
  Tensor normed = ws.get("enc.normed", x.shape());
  auto sublayer_input = [&](const Norm& norm) -> const Tensor& {
    if (!c.pre_norm) return x;
    norm.forward(be, x, normed);
    return normed;
  };
  auto sublayer_end = [&](const Linear& out, const Norm& norm, const Tensor& result) {
    Tensor projected = ws.get("enc.proj", x.shape());
    out.forward(be, result, projected);
    if (c.pre_norm) {
      be.add(x, projected, x);
    } else {
      be.add(projected, x, projected);
      norm.forward(be, projected, x);
    }
  };

  Tensor q = ws.get("enc.q", heads), k = ws.get("enc.k", heads), v = ws.get("enc.v", heads);
  {
    const Tensor& in = sublayer_input(attn_norm_);
    q_.forward(be, in, q);
    k_.forward(be, in, k);
    v_.forward(be, in, v);
  }
  Tensor attn = ws.get("enc.attn", heads);
  AttentionParams self = params;
  self.additive_mask = position_bias;
  attend_segments(be, q, k, v, attn, segments, segments, self);
  sublayer_end(attn_out_, attn_norm_, attn);

  if (c.cross_width > 0) {
    if (!cross || cross->rank() != 2 || cross->dim(1) != c.cross_width)
      fail("encoder layer: cross-attention needs states [M, {}], got {}", c.cross_width,
           cross ? cross->shape().str() : std::string("none"));
    const int64_t M = cross->dim(0);
    Tensor ck = ws.get("enc.cross_k", Shape{M, c.heads, head_dim}), cv = ws.get("enc.cross_v", Shape{M, c.heads, head_dim});
    cross_q_.forward(be, sublayer_input(cross_norm_), q);
    cross_k_.forward(be, *cross, ck);
    cross_v_.forward(be, *cross, cv);
    attend_segments(be, q, ck, cv, attn, segments, cross_segments, params);
    sublayer_end(cross_out_, cross_norm_, attn);
  } else if (cross) {
    fail("encoder layer: cross-attention states given to a layer without cross-attention");
  }

  Tensor hidden = ws.get("enc.mlp", Shape{N, c.intermediate});
  const Tensor& in = sublayer_input(mlp_norm_);
  fc1_.forward(be, in, hidden);
  if (c.gated_mlp) {
    Tensor up = ws.get("enc.up", Shape{N, c.intermediate});
    up_.forward(be, in, up);
    be.gated_activation(c.activation, hidden, up, hidden);
  } else {
    be.activation(c.activation, hidden, hidden);
  }
  sublayer_end(fc2_, mlp_norm_, hidden);
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
  stack.config_ = c;
  for (int64_t i = 0; i < c.layers; ++i)
    stack.layers_.push_back(EncoderLayer::load(w, prefix + "." + std::to_string(i), layer_config(c, i), n));
  if (!c.relative_bias.empty()) stack.relative_ = RelativePositionBias::load(w, c.relative_bias, c.layer.heads, c.relative);
  if (!c.final_norm.empty()) {
    const auto& l = c.layer;
    stack.final_norm_ = l.rms_norm ? Norm::rms(w, c.final_norm, l.hidden, l.norm_eps)
                                   : Norm::layer(w, c.final_norm, l.hidden, l.norm_eps, l.bias);
  }
  return stack;
}

void EncoderStack::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderStackConfig& c,
                           const EncoderLayerNames& n) {
  for (int64_t i = 0; i < c.layers; ++i) EncoderLayer::declare(specs, prefix + "." + std::to_string(i), layer_config(c, i), n);
  if (!c.relative_bias.empty()) RelativePositionBias::declare(specs, c.relative_bias, c.layer.heads, c.relative);
  if (!c.final_norm.empty()) add_norm(specs, c.final_norm, c.layer.hidden, c.layer.bias && !c.layer.rms_norm);
}

void EncoderStack::add_ops(std::vector<Op>& ops, const EncoderStackConfig& c) { EncoderLayer::add_ops(ops, c.layer); }

void EncoderStack::forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross,
                           std::span<const int64_t> cross_segments, std::span<const int64_t> positions) const {
  const int64_t N = x.dim(0);
  Tensor device_bias;
  if (relative_.defined()) {
    // One bias for the whole stack (T5 computes it in the first layer and passes it on).
    if (segments.size() > 1) fail("encoder: a relative position bias needs one sequence at a time");
    if (!positions.empty() && int64_t(positions.size()) != N)
      fail("encoder: {} positions for {} rows", positions.size(), N);
    thread_local std::vector<int64_t> counted;
    thread_local std::vector<float> bias;
    if (positions.empty()) {
      counted.resize(size_t(N));
      for (int64_t i = 0; i < N; ++i) counted[size_t(i)] = i;
      positions = counted;
    }
    bias.resize(size_t(relative_.heads() * N * N));
    relative_.fill(positions, positions, bias.data());
    device_bias = ws.to_device("enc.position_bias",
                               Tensor::borrow(bias.data(), Shape{1, relative_.heads(), N, N}, DType::F32, Device::cpu(), nullptr));
  }
  for (const auto& layer : layers_)
    layer.forward(ws, x, segments, layer.config().cross_width > 0 ? cross : nullptr, cross_segments,
                  device_bias.defined() ? &device_bias : nullptr);
  if (!config_.final_norm.empty()) final_norm_.forward(ws.backend(), x, x);
}

}  // namespace vlm
