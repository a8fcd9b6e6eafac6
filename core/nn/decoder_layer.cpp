#include "vlm/nn/transformer.hpp"

#include <cmath>

namespace vlm {

DecoderLayer DecoderLayer::load(const WeightLoader& w, const std::string& prefix, const DecoderLayerConfig& c,
                                const DecoderLayerNames& n) {
  DecoderLayer layer;
  layer.config_ = c;
  const std::string p = prefix + ".";
  layer.input_norm_ = Norm::rms(w, p + n.input_norm, c.hidden, c.norm_eps);
  layer.post_norm_ = Norm::rms(w, p + n.post_norm, c.hidden, c.norm_eps);
  layer.q_ = Linear::load(w, p + n.q, c.hidden, c.heads * c.head_dim, c.qkv_bias);
  layer.k_ = Linear::load(w, p + n.k, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  layer.v_ = Linear::load(w, p + n.v, c.hidden, c.kv_heads * c.head_dim, c.qkv_bias);
  layer.o_ = Linear::load(w, p + n.o, c.heads * c.head_dim, c.hidden, c.out_bias);
  layer.gate_ = Linear::load(w, p + n.gate, c.hidden, c.intermediate, c.mlp_bias);
  layer.up_ = Linear::load(w, p + n.up, c.hidden, c.intermediate, c.mlp_bias);
  layer.down_ = Linear::load(w, p + n.down, c.intermediate, c.hidden, c.mlp_bias);
  return layer;
}

void DecoderLayer::forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin, KVCache& cache,
                           int layer) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t B = hidden.dim(0), S = hidden.dim(1);

  // Attention block: x += o(attn(rope(q), rope(k), v)).
  Tensor normed = ws.get("dec.normed", hidden.shape());
  input_norm_.forward(be, hidden, normed);
  Tensor q = ws.get("dec.q", Shape{B, S, c.heads, c.head_dim});
  Tensor k = ws.get("dec.k", Shape{B, S, c.kv_heads, c.head_dim});
  Tensor v = ws.get("dec.v", Shape{B, S, c.kv_heads, c.head_dim});
  q_.forward(be, normed, q);
  k_.forward(be, normed, k);
  v_.forward(be, normed, v);
  be.rotary(q, cos, sin, q);
  be.rotary(k, cos, sin, k);
  cache.write(layer, k, v);

  AttentionParams params;
  params.scale = 1.0f / std::sqrt(float(c.head_dim));
  params.causal = true;
  params.q_offset = cache.length();
  params.kv_len = cache.length() + S;
  // Padding (left-padded prompt rows) is masked through the cache's key mask, prepared before the layers.
  params.key_mask = &cache.key_mask();
  Tensor attn = ws.get("dec.attn", Shape{B, S, c.heads, c.head_dim});
  be.attention(q, cache.keys(layer), cache.values(layer), attn, params);
  Tensor projected = ws.get("dec.proj", hidden.shape());
  o_.forward(be, attn, projected);
  be.add(hidden, projected, hidden);

  // MLP block: x += down(act(gate(x)) * up(x)).
  post_norm_.forward(be, hidden, normed);
  Tensor gate = ws.get("dec.gate", Shape{B, S, c.intermediate});
  Tensor up = ws.get("dec.up", Shape{B, S, c.intermediate});
  gate_.forward(be, normed, gate);
  up_.forward(be, normed, up);
  be.gated_activation(c.activation, gate, up, gate);
  down_.forward(be, gate, projected);
  be.add(hidden, projected, hidden);
}

}  // namespace vlm
