#include "vlm/nn/transformer.hpp"

#include <cmath>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

Norm load_norm(const WeightLoader& w, const std::string& name, const DecoderLayerConfig& c) {
  return c.layer_norm ? Norm::layer(w, name, c.hidden, c.norm_eps, true) : Norm::rms(w, name, c.hidden, c.norm_eps);
}

}  // namespace

float DecoderLayerConfig::scale() const { return attention_scale > 0 ? attention_scale : 1.0f / std::sqrt(float(head_dim)); }

DecoderLayer DecoderLayer::load(const WeightLoader& w, const std::string& prefix, const DecoderLayerConfig& c,
                                const DecoderLayerNames& n) {
  DecoderLayer layer;
  layer.config_ = c;
  const std::string p = prefix + ".";
  layer.input_norm_ = load_norm(w, p + n.input_norm, c);
  layer.post_norm_ = load_norm(w, p + n.post_norm, c);
  layer.q_ = Linear::load(w, p + n.q, c.hidden, c.heads * c.head_dim, c.qkv_bias);
  layer.k_ = Linear::load(w, p + n.k, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  layer.v_ = Linear::load(w, p + n.v, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  layer.o_ = Linear::load(w, p + n.o, c.heads * c.head_dim, c.hidden, c.out_bias);
  if (c.cross_attention) {
    layer.cross_norm_ = load_norm(w, p + n.cross_norm, c);
    layer.cross_q_ = Linear::load(w, p + n.cross_q, c.hidden, c.heads * c.head_dim, c.qkv_bias);
    layer.cross_k_ = Linear::load(w, p + n.cross_k, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
    layer.cross_v_ = Linear::load(w, p + n.cross_v, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
    layer.cross_o_ = Linear::load(w, p + n.cross_o, c.heads * c.head_dim, c.hidden, c.out_bias);
  }
  if (c.gated_mlp) {
    layer.gate_ = Linear::load(w, p + n.gate, c.hidden, c.intermediate, c.mlp_bias);
    layer.up_ = Linear::load(w, p + n.up, c.hidden, c.intermediate, c.mlp_bias);
    layer.down_ = Linear::load(w, p + n.down, c.intermediate, c.hidden, c.mlp_bias);
  } else {
    layer.up_ = Linear::load(w, p + n.fc1, c.hidden, c.intermediate, c.mlp_bias);
    layer.down_ = Linear::load(w, p + n.fc2, c.intermediate, c.hidden, c.mlp_bias);
  }
  return layer;
}

void DecoderLayer::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const DecoderLayerConfig& c,
                           const DecoderLayerNames& n) {
  const std::string p = prefix + ".";
  add_norm(specs, p + n.input_norm, c.hidden, c.layer_norm);
  add_norm(specs, p + n.post_norm, c.hidden, c.layer_norm);
  add_linear(specs, p + n.q, c.hidden, c.heads * c.head_dim, c.qkv_bias);
  add_linear(specs, p + n.k, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  add_linear(specs, p + n.v, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  add_linear(specs, p + n.o, c.heads * c.head_dim, c.hidden, c.out_bias);
  if (c.cross_attention) {
    add_norm(specs, p + n.cross_norm, c.hidden, c.layer_norm);
    add_linear(specs, p + n.cross_q, c.hidden, c.heads * c.head_dim, c.qkv_bias);
    add_linear(specs, p + n.cross_k, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
    add_linear(specs, p + n.cross_v, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
    add_linear(specs, p + n.cross_o, c.heads * c.head_dim, c.hidden, c.out_bias);
  }
  if (c.gated_mlp) {
    add_linear(specs, p + n.gate, c.hidden, c.intermediate, c.mlp_bias);
    add_linear(specs, p + n.up, c.hidden, c.intermediate, c.mlp_bias);
    add_linear(specs, p + n.down, c.intermediate, c.hidden, c.mlp_bias);
  } else {
    add_linear(specs, p + n.fc1, c.hidden, c.intermediate, c.mlp_bias);
    add_linear(specs, p + n.fc2, c.intermediate, c.hidden, c.mlp_bias);
  }
}

void DecoderLayer::add_ops(std::vector<Op>& ops, const DecoderLayerConfig& c) {
  vlm::add_ops(ops, {Op::Matmul, Op::Attention, Op::Add, c.layer_norm ? Op::LayerNorm : Op::RmsNorm,
                     c.gated_mlp ? Op::GatedActivation : Op::Activation});
  if (c.rotary) vlm::add_ops(ops, {Op::Rotary});
}

CrossKV DecoderLayer::project_cross(Workspace& ws, const Tensor& states) const {
  const auto& c = config_;
  if (!c.cross_attention) fail("decoder layer: cross-attention states given to a layer without cross-attention");
  if (states.rank() != 2 || states.dim(1) != c.hidden)
    fail("cross-attention states must be [T, {}], got {}", c.hidden, states.shape().str());
  Backend& be = ws.backend();
  const int64_t T = states.dim(0);
  CrossKV kv{be.empty(Shape{T, c.kv_heads, c.head_dim}, DType::F32), be.empty(Shape{T, c.kv_heads, c.head_dim}, DType::F32)};
  cross_k_.forward(be, states, kv.k);
  cross_v_.forward(be, states, kv.v);
  return kv;
}

void DecoderLayer::forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin,
                           std::span<const SequenceRows> sequences, KVCache& cache, int layer, int cross_layer) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t N = hidden.dim(0);

  // Attention block: x += o(attn(rope(q), rope(k), v)), each sequence against its own cached keys.
  Tensor normed = ws.get("dec.normed", hidden.shape());
  input_norm_.forward(be, hidden, normed);
  Tensor q = ws.get("dec.q", Shape{1, N, c.heads, c.head_dim});
  Tensor k = ws.get("dec.k", Shape{1, N, c.kv_heads, c.head_dim});
  Tensor v = ws.get("dec.v", Shape{1, N, c.kv_heads, c.head_dim});
  q_.forward(be, normed, q);
  k_.forward(be, normed, k);
  v_.forward(be, normed, v);
  if (c.rotary) {
    const Tensor cos3 = cos.reshape(Shape{1, N, cos.dim(-1)}), sin3 = sin.reshape(Shape{1, N, sin.dim(-1)});
    be.rotary(q, cos3, sin3, q);
    be.rotary(k, cos3, sin3, k);
  }
  const Tensor q_rows = q.reshape(Shape{N, c.heads, c.head_dim});
  const Tensor k_rows = k.reshape(Shape{N, c.kv_heads, c.head_dim});
  const Tensor v_rows = v.reshape(Shape{N, c.kv_heads, c.head_dim});
  Tensor attn = ws.get("dec.attn", Shape{N, c.heads, c.head_dim});
  for (const auto& seq : sequences) {
    cache.write(layer, seq.slot, k_rows.rows(seq.first, seq.count), v_rows.rows(seq.first, seq.count));
    AttentionParams params;
    params.scale = c.scale();
    params.causal = true;
    params.q_offset = cache.length(seq.slot);
    params.kv_len = params.q_offset + seq.count;
    params.window = c.sliding_window;
    params.additive_mask = seq.position_bias;
    const Tensor q_seq = q_rows.rows(seq.first, seq.count).reshape(Shape{1, seq.count, c.heads, c.head_dim});
    Tensor out = attn.rows(seq.first, seq.count).reshape(Shape{1, seq.count, c.heads, c.head_dim});
    be.attention(q_seq, cache.keys(layer, seq.slot), cache.values(layer, seq.slot), out, params);
  }
  Tensor projected = ws.get("dec.proj", hidden.shape());
  o_.forward(be, attn, projected);
  be.add(hidden, projected, hidden);

  // Cross-attention block (T5): x += o'(attn(q'(x), the sequence's encoder keys and values)).
  if (c.cross_attention) {
    cross_norm_.forward(be, hidden, normed);
    Tensor cq = ws.get("dec.cross_q", Shape{N, c.heads, c.head_dim});
    cross_q_.forward(be, normed, cq);
    for (const auto& seq : sequences)
      if (!seq.cross) fail("decoder layer {}: a sequence has no encoder states to cross-attend", layer);
    cross_attend(ws, cq, sequences, cross_layer, c.scale(), attn);
    cross_o_.forward(be, attn, projected);
    be.add(hidden, projected, hidden);
  }

  // MLP block: x += down(act(gate(x)) * up(x)), or x += fc2(act(fc1(x))).
  post_norm_.forward(be, hidden, normed);
  Tensor up = ws.get("dec.up", Shape{N, c.intermediate});
  up_.forward(be, normed, up);
  Tensor activated = up;
  if (c.gated_mlp) {
    activated = ws.get("dec.gate", Shape{N, c.intermediate});
    gate_.forward(be, normed, activated);
    be.gated_activation(c.activation, activated, up, activated);
  } else {
    be.activation(c.activation, up, up);
  }
  down_.forward(be, activated, projected);
  be.add(hidden, projected, hidden);
}

}  // namespace vlm
