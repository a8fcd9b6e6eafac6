#include <cmath>

#include "vlm/nn/transformer.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

VitBlock VitBlock::load(const WeightLoader& w, const std::string& prefix, const VitBlockConfig& c, const VitBlockNames& n) {
  VitBlock block;
  block.config_ = c;
  const std::string p = prefix + ".";
  block.norm1_ = Norm::layer(w, p + n.norm1, c.dim, c.norm_eps);
  block.norm2_ = Norm::layer(w, p + n.norm2, c.dim, c.norm_eps);
  const bool bias = c.attention_bias;
  if (c.fused_qkv) {
    block.qkv_ = Linear::load(w, p + n.qkv, c.dim, 3 * c.dim, bias, n.qkv_separator);
  } else {
    block.q_ = Linear::load(w, p + n.q, c.dim, c.dim, bias);
    block.k_ = Linear::load(w, p + n.k, c.dim, c.dim, bias);
    block.v_ = Linear::load(w, p + n.v, c.dim, c.dim, bias);
  }
  block.out_ = Linear::load(w, p + n.out, c.dim, c.dim, bias);
  if (c.gated) {  // scalars applied as tanh(gate): read once on the host
    auto gate = [&](const std::string& name) {
      return std::tanh(w.scalar(p + name));
    };
    block.gate_attn_ = gate(n.gate_attn);
    block.gate_ffn_ = gate(n.gate_ffn);
  }
  block.fc1_ = Linear::load(w, p + n.fc1, c.dim, c.mlp_hidden, true);
  block.fc2_ = Linear::load(w, p + n.fc2, c.mlp_hidden, c.dim, true);
  return block;
}

void VitBlock::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const VitBlockConfig& c,
                       const VitBlockNames& n) {
  const std::string p = prefix + ".";
  add_norm(specs, p + n.norm1, c.dim, true);
  add_norm(specs, p + n.norm2, c.dim, true);
  if (c.fused_qkv) {
    add_linear(specs, p + n.qkv, c.dim, 3 * c.dim, c.attention_bias, n.qkv_separator);
  } else {
    for (const auto* name : {&n.q, &n.k, &n.v}) add_linear(specs, p + *name, c.dim, c.dim, c.attention_bias);
  }
  add_linear(specs, p + n.out, c.dim, c.dim, c.attention_bias);
  if (c.gated) {
    specs.push_back({p + n.gate_attn, Shape{1}, false, Init::Gate});
    specs.push_back({p + n.gate_ffn, Shape{1}, false, Init::Gate});
  }
  add_linear(specs, p + n.fc1, c.dim, c.mlp_hidden, true);
  add_linear(specs, p + n.fc2, c.mlp_hidden, c.dim, true);
}

void VitBlock::add_ops(std::vector<Op>& ops, const VitBlockConfig& c) {
  vlm::add_ops(ops, {Op::Matmul, Op::Attention, Op::Add, Op::LayerNorm, Op::Activation});
  if (c.fused_qkv) vlm::add_ops(ops, {Op::Slice});
  if (c.gated) vlm::add_ops(ops, {Op::Scale});
}

void VitBlock::forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor& cos,
                       const Tensor& sin, const SegmentMasks& masks) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t N = x.dim(0), head_dim = c.dim / c.heads;

  Tensor normed = ws.get("vit.normed", x.shape());
  norm1_.forward(be, x, normed);
  Tensor q = ws.get("vit.q", Shape{1, N, c.heads, head_dim});
  Tensor k = ws.get("vit.k", Shape{1, N, c.heads, head_dim});
  Tensor v = ws.get("vit.v", Shape{1, N, c.heads, head_dim});
  if (c.fused_qkv) {
    // The fused projection's rows are [q | k | v]; split them with slices along the feature axis.
    Tensor qkv = ws.get("vit.qkv", Shape{N, 3 * c.dim});
    qkv_.forward(be, normed, qkv);
    Tensor q2 = q.reshape(Shape{N, c.dim}), k2 = k.reshape(Shape{N, c.dim}), v2 = v.reshape(Shape{N, c.dim});
    be.slice(qkv, 1, 0, q2);
    be.slice(qkv, 1, c.dim, k2);
    be.slice(qkv, 1, 2 * c.dim, v2);
  } else {
    q_.forward(be, normed, q);
    k_.forward(be, normed, k);
    v_.forward(be, normed, v);
  }
  if (cos.defined()) {
    const Tensor c3 = cos.reshape(Shape{1, N, cos.dim(-1)}), s3 = sin.reshape(Shape{1, N, sin.dim(-1)});
    be.rotary(q, c3, s3, q);
    be.rotary(k, c3, s3, k);
  }

  Tensor attn = ws.get("vit.attn", Shape{N, c.heads, head_dim});
  AttentionParams params;
  params.scale = 1.0f / std::sqrt(float(head_dim));
  // Each segment (one image or frame) is a contiguous block of rows: attend within it only.
  const Shape rows{N, c.heads, head_dim};
  attend_segments(be, q.reshape(rows), k.reshape(rows), v.reshape(rows), attn, segments, segments, params, masks);
  Tensor projected = ws.get("vit.proj", x.shape());
  out_.forward(be, attn, projected);
  if (c.gated) be.scale(projected, gate_attn_, projected);
  be.add(x, projected, x);

  norm2_.forward(be, x, normed);
  Tensor hidden = ws.get("vit.mlp", Shape{N, c.mlp_hidden});
  fc1_.forward(be, normed, hidden);
  be.activation(c.activation, hidden, hidden);
  fc2_.forward(be, hidden, projected);
  if (c.gated) be.scale(projected, gate_ffn_, projected);
  be.add(x, projected, x);
}

}  // namespace vlm
