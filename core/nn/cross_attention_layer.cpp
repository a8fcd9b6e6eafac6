#include <cmath>
#include <cstring>
#include <vector>

#include "vlm/nn/transformer.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

void cross_attend(Workspace& ws, const Tensor& q, std::span<const SequenceRows> sequences, int layer, float scale,
                  Tensor& out) {
  Backend& be = ws.backend();
  for (const auto& seq : sequences) {
    if (!seq.cross) continue;
    if (layer < 0 || size_t(layer) >= seq.cross->layers.size())
      fail("cross-attention layer {} has no keys and values ({} projected)", layer, seq.cross->layers.size());
    const CrossKV& kv = seq.cross->layers[size_t(layer)];
    const Tensor& mask = seq.cross->mask;
    const int64_t T = kv.k.dim(0), rows = mask.dim(0);
    // Prompt rows read their own mask rows; generated positions repeat the last prompt row.
    thread_local std::vector<float> staging;  // reused: a decode step allocates nothing here
    staging.resize(size_t(seq.count * T));
    for (int64_t r = 0; r < seq.count; ++r) {
      const int64_t row = std::min(seq.cross_row + r, rows - 1);
      std::memcpy(staging.data() + r * T, mask.data<float>() + row * T, size_t(T) * sizeof(float));
    }
    const Tensor host_mask = Tensor::borrow(staging.data(), Shape{1, 1, seq.count, T}, DType::F32, Device::cpu(), nullptr);
    const Tensor device_mask = ws.to_device("cross.mask", host_mask);
    AttentionParams params;
    params.scale = scale;
    params.additive_mask = &device_mask;
    const auto view = [](const Tensor& t, int64_t start, int64_t len) {
      return t.rows(start, len).reshape(Shape{1, len, t.dim(1), t.dim(2)});
    };
    Tensor rows_out = view(out, seq.first, seq.count);
    be.attention(view(q, seq.first, seq.count), view(kv.k, 0, T), view(kv.v, 0, T), rows_out, params);
  }
}

CrossAttentionLayer CrossAttentionLayer::load(const WeightLoader& w, const std::string& prefix,
                                              const DecoderLayerConfig& c, const CrossAttentionLayerNames& n) {
  CrossAttentionLayer layer;
  layer.config_ = c;
  const std::string p = prefix + ".";
  layer.input_norm_ = Norm::rms(w, p + n.input_norm, c.hidden, c.norm_eps);
  layer.post_norm_ = Norm::rms(w, p + n.post_norm, c.hidden, c.norm_eps);
  layer.q_ = Linear::load(w, p + n.q, c.hidden, c.heads * c.head_dim, false);
  layer.k_ = Linear::load(w, p + n.k, c.hidden, c.kv_heads * c.head_dim, false);
  layer.v_ = Linear::load(w, p + n.v, c.hidden, c.kv_heads * c.head_dim, false);
  layer.o_ = Linear::load(w, p + n.o, c.heads * c.head_dim, c.hidden, false);
  layer.q_norm_ = Norm::rms(w, p + n.q_norm, c.head_dim, c.norm_eps);
  layer.k_norm_ = Norm::rms(w, p + n.k_norm, c.head_dim, c.norm_eps);
  layer.gate_ = Linear::load(w, p + n.gate, c.hidden, c.intermediate, false);
  layer.up_ = Linear::load(w, p + n.up, c.hidden, c.intermediate, false);
  layer.down_ = Linear::load(w, p + n.down, c.intermediate, c.hidden, false);
  // The gates are scalars applied as tanh(gate): read once on the host.
  layer.attn_gate_ = std::tanh(w.scalar(p + n.attn_gate));
  layer.mlp_gate_ = std::tanh(w.scalar(p + n.mlp_gate));
  return layer;
}

void CrossAttentionLayer::declare(std::vector<TensorSpec>& specs, const std::string& prefix,
                                  const DecoderLayerConfig& c, const CrossAttentionLayerNames& n) {
  const std::string p = prefix + ".";
  add_norm(specs, p + n.input_norm, c.hidden, false);
  add_norm(specs, p + n.post_norm, c.hidden, false);
  add_linear(specs, p + n.q, c.hidden, c.heads * c.head_dim, false);
  add_linear(specs, p + n.k, c.hidden, c.kv_heads * c.head_dim, false);
  add_linear(specs, p + n.v, c.hidden, c.kv_heads * c.head_dim, false);
  add_linear(specs, p + n.o, c.heads * c.head_dim, c.hidden, false);
  add_norm(specs, p + n.q_norm, c.head_dim, false);
  add_norm(specs, p + n.k_norm, c.head_dim, false);
  specs.push_back({p + n.attn_gate, Shape{1}, false, Init::Gate});
  specs.push_back({p + n.mlp_gate, Shape{1}, false, Init::Gate});
  add_linear(specs, p + n.gate, c.hidden, c.intermediate, false);
  add_linear(specs, p + n.up, c.hidden, c.intermediate, false);
  add_linear(specs, p + n.down, c.intermediate, c.hidden, false);
}

void CrossAttentionLayer::add_ops(std::vector<Op>& ops) {
  vlm::add_ops(ops, {Op::Matmul, Op::Attention, Op::Add, Op::Scale, Op::RmsNorm, Op::GatedActivation});
}

CrossKV CrossAttentionLayer::project(Workspace& ws, const Tensor& states) const {
  Backend& be = ws.backend();
  const auto& c = config_;
  if (states.rank() != 2 || states.dim(1) != c.hidden)
    fail("cross-attention states must be [T, {}], got {}", c.hidden, states.shape().str());
  const int64_t T = states.dim(0);
  CrossKV kv{be.empty(Shape{T, c.kv_heads, c.head_dim}, DType::F32), be.empty(Shape{T, c.kv_heads, c.head_dim}, DType::F32)};
  k_.forward(be, states, kv.k);
  v_.forward(be, states, kv.v);
  Tensor heads = kv.k.reshape(Shape{T * c.kv_heads, c.head_dim});
  k_norm_.forward(be, heads, heads);
  return kv;
}

void CrossAttentionLayer::forward(Workspace& ws, Tensor& hidden, std::span<const SequenceRows> sequences,
                                  int layer) const {
  bool any = false;
  for (const auto& seq : sequences) any = any || seq.cross;
  if (!any) return;  // no sequence has images: the layer is skipped, as in Hugging Face
  Backend& be = ws.backend();
  const auto& c = config_;
  const int64_t N = hidden.dim(0);

  Tensor normed = ws.get("cross.normed", hidden.shape());
  input_norm_.forward(be, hidden, normed);
  Tensor q = ws.get("cross.q", Shape{N, c.heads, c.head_dim});
  q_.forward(be, normed, q);
  Tensor q_heads = q.reshape(Shape{N * c.heads, c.head_dim});
  q_norm_.forward(be, q_heads, q_heads);
  Tensor attn = ws.get("cross.attn", Shape{N, c.heads, c.head_dim});
  cross_attend(ws, q, sequences, layer, c.scale(), attn);
  Tensor projected = ws.get("cross.proj", hidden.shape());
  o_.forward(be, attn, projected);
  for (const auto& seq : sequences) {
    if (!seq.cross) continue;
    Tensor rows = projected.rows(seq.first, seq.count), dst = hidden.rows(seq.first, seq.count);
    be.scale(rows, attn_gate_, rows);
    be.add(dst, rows, dst);
  }

  post_norm_.forward(be, hidden, normed);
  Tensor gate = ws.get("cross.gate", Shape{N, c.intermediate}), up = ws.get("cross.up", Shape{N, c.intermediate});
  gate_.forward(be, normed, gate);
  up_.forward(be, normed, up);
  be.gated_activation(c.activation, gate, up, gate);
  down_.forward(be, gate, projected);
  for (const auto& seq : sequences) {
    if (!seq.cross) continue;
    const auto& row_gate = seq.cross->row_gate;
    auto gate_of = [&](int64_t r) { return row_gate[size_t(std::min<int64_t>(seq.cross_row + r, int64_t(row_gate.size()) - 1))]; };
    // Runs of rows with the same row gate (text before the first image has 0) get one scale and add each.
    for (int64_t r = 0; r < seq.count;) {
      int64_t end = r + 1;
      while (end < seq.count && gate_of(end) == gate_of(r)) ++end;
      Tensor out = projected.rows(seq.first + r, end - r), dst = hidden.rows(seq.first + r, end - r);
      be.scale(out, mlp_gate_ * gate_of(r), out);
      be.add(dst, out, dst);
      r = end;
    }
  }
}

}  // namespace vlm
