#pragma once
// Transformer blocks shared by the families, configured rather than re-implemented:
//  * DecoderLayer: pre-norm decoder layer (Llama, Qwen2, Mistral, OPT, Mllama's self-attention layers, T5's
//    decoder): RMSNorm or LayerNorm, grouped-query self-attention with rotary, learned or relative positions
//    and a KV cache, an optional cross-attention sublayer over encoder states (T5), gated or plain MLP.
//  * CrossAttentionLayer: Mllama's tanh-gated cross-attention layer.
//  * EncoderLayer: bidirectional layer, post-norm (BERT, RoBERTa, Q-Former) or pre-norm (T5's encoder), with
//    optional cross-attention.
//  * VitBlock: pre-norm vision block (CLIP, SigLIP, Qwen2-VL): LayerNorm, bidirectional attention (fused or
//    separate q/k/v, optional 2-D rotary, attention confined to segments such as one image each), MLP.
#include <span>
#include <string>

#include "vlm/nn/kv_cache.hpp"
#include "vlm/nn/layers.hpp"
#include "vlm/nn/relative_position.hpp"
#include "vlm/model/tensor_spec.hpp"
#include "vlm/nn/workspace.hpp"

namespace vlm {

// Keys and values of one sequence's cross-attention states for one cross-attention layer, computed once
// per request: [T, kv_heads, head_dim] each.
struct CrossKV {
  Tensor k, v;
};

// A sequence's cross-attention context (Mllama): per cross-attention layer its keys and values, and per
// prompt position the additive mask over the T states and whether the position attends to any state
// (Hugging Face's full_text_row_masked_out_mask, which gates the layer's MLP). Generated positions reuse
// the last prompt position's row, as Hugging Face extends the mask.
struct CrossContext {
  std::vector<CrossKV> layers;  // one per cross-attention layer, in layer order
  Tensor mask;                  // [n, T] f32 host, additive (0 = attend)
  std::vector<float> row_gate;  // [n]: 1 or 0
};

// One sequence's share of a batched forward: rows [first, first + count) of the batch are its next
// positions, kept in KV-cache slot `slot`. Sequences in one forward may be at different lengths, and a
// prompt chunk may sit beside single decode tokens of other sequences. `cross` (or null) is the sequence's
// cross-attention context and `cross_row` the mask row of its first row here.
// `position_bias` (or null) is added to the sequence's self-attention scores: [1, heads, count, kv_len] on
// the backend (T5's relative positions, filled by the text model for each forward).
struct SequenceRows {
  int slot = 0;
  int64_t first = 0, count = 0;
  const CrossContext* cross = nullptr;
  int64_t cross_row = 0;
  const Tensor* position_bias = nullptr;
};

// Attention of q [N, heads, head_dim] (the rows of `sequences`) over each sequence's cross-attention keys
// and values for cross-attention layer `layer`, masked by its CrossContext, into out [N, heads, head_dim].
// Rows of sequences without a cross context are left as they are.
void cross_attend(Workspace& ws, const Tensor& q, std::span<const SequenceRows> sequences, int layer, float scale,
                  Tensor& out);

struct DecoderLayerConfig {
  int64_t hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0;
  bool qkv_bias = false;  // Qwen2: true
  bool out_bias = false;
  bool mlp_bias = false;
  Activation activation = Activation::Silu;
  float norm_eps = 1e-6f;
  int64_t sliding_window = 0;  // > 0: each position attends to the last `sliding_window` positions (Mistral)
  bool layer_norm = false;     // LayerNorm with bias (OPT) instead of RMSNorm
  bool gated_mlp = true;       // down(act(gate(x)) * up(x)); false: fc2(act(fc1(x))) (OPT)
  bool rotary = true;          // false: no rotary; positions are learned embeddings added to the input (OPT)
                               // or a relative bias added to the scores (T5)
  float attention_scale = 0.0f;  // score scale; 0: 1/sqrt(head_dim). T5: 1 (its init folds the scale in)
  bool cross_attention = false;  // a cross-attention sublayer over encoder states between attention and MLP (T5)
  float scale() const;
};

// HF parameter names inside one layer; the defaults are Llama's (also Qwen2's and Mistral's).
struct DecoderLayerNames {
  std::string input_norm = "input_layernorm", post_norm = "post_attention_layernorm";
  std::string q = "self_attn.q_proj", k = "self_attn.k_proj", v = "self_attn.v_proj", o = "self_attn.o_proj";
  std::string gate = "mlp.gate_proj", up = "mlp.up_proj", down = "mlp.down_proj";
  std::string fc1 = "mlp.fc1", fc2 = "mlp.fc2";  // the plain MLP (gated_mlp false)
  // The cross-attention sublayer (cross_attention true)
  std::string cross_norm = "encoder_attn_layer_norm", cross_q = "encoder_attn.q_proj", cross_k = "encoder_attn.k_proj",
              cross_v = "encoder_attn.v_proj", cross_o = "encoder_attn.out_proj";
};

class DecoderLayer {
 public:
  static DecoderLayer load(const WeightLoader& weights, const std::string& prefix, const DecoderLayerConfig& config,
                           const DecoderLayerNames& names = {});
  // The tensors load() reads, for checkpoint validation and `vlm synth` (kept beside load: one place).
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const DecoderLayerConfig& config,
                      const DecoderLayerNames& names = {});
  // The backend ops forward() calls (a family's required_ops is the union of its blocks').
  static void add_ops(std::vector<Op>& ops, const DecoderLayerConfig& config);
  // hidden [N, hidden] (the rows of every sequence in `sequences`) is updated in place; cos/sin [N, head_dim]
  // are each row's rotary table. Projections and the MLP run over all N rows at once; attention runs per
  // sequence over its slot of `cache`, where the layer's keys and values are stored at the slot's current
  // length (the caller advances it after the last layer). With cross_attention, `cross_layer` is this
  // layer's index among the cross-attending layers (its keys and values in each sequence's CrossContext).
  void forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin,
               std::span<const SequenceRows> sequences, KVCache& cache, int layer, int cross_layer = -1) const;
  // Encoder states [T, hidden] -> this layer's cross-attention keys and values (cross_attention only).
  CrossKV project_cross(Workspace& ws, const Tensor& states) const;
  const DecoderLayerConfig& config() const { return config_; }

 private:
  DecoderLayerConfig config_;
  Norm input_norm_, post_norm_, cross_norm_;
  Linear q_, k_, v_, o_, gate_, up_, down_;
  Linear cross_q_, cross_k_, cross_v_, cross_o_;
};

// HF names inside a gated cross-attention decoder layer; the defaults are Mllama's.
struct CrossAttentionLayerNames {
  std::string input_norm = "input_layernorm", post_norm = "post_attention_layernorm";
  std::string q = "cross_attn.q_proj", k = "cross_attn.k_proj", v = "cross_attn.v_proj", o = "cross_attn.o_proj";
  std::string q_norm = "cross_attn.q_norm", k_norm = "cross_attn.k_norm";
  std::string attn_gate = "cross_attn_attn_gate", mlp_gate = "cross_attn_mlp_gate";
  std::string gate = "mlp.gate_proj", up = "mlp.up_proj", down = "mlp.down_proj";
};

// Mllama's gated cross-attention decoder layer: text positions attend to their sequence's image states.
//   x += tanh(attn_gate) * O(CrossAttention(q_norm(Q(norm(x))), k_norm(K(states)), V(states), mask))
//   x += tanh(mlp_gate) * row_gate * MLP(post_norm(x))
// Sequences without a cross context pass through unchanged (Hugging Face skips the layer without images).
class CrossAttentionLayer {
 public:
  static CrossAttentionLayer load(const WeightLoader& weights, const std::string& prefix,
                                  const DecoderLayerConfig& config, const CrossAttentionLayerNames& names = {});
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const DecoderLayerConfig& config,
                      const CrossAttentionLayerNames& names = {});
  static void add_ops(std::vector<Op>& ops);
  // states [T, hidden] -> keys and values for this layer (k_norm applied), kept for the whole request.
  CrossKV project(Workspace& ws, const Tensor& states) const;
  // hidden [N, hidden] in place; `layer` is this layer's index among the cross-attention layers.
  void forward(Workspace& ws, Tensor& hidden, std::span<const SequenceRows> sequences, int layer) const;

 private:
  DecoderLayerConfig config_;
  Norm input_norm_, post_norm_, q_norm_, k_norm_;
  Linear q_, k_, v_, o_, gate_, up_, down_;
  float attn_gate_ = 0.0f, mlp_gate_ = 0.0f;  // tanh of the stored gates
};

struct EncoderLayerConfig {
  int64_t hidden = 0, heads = 0, intermediate = 0;
  int64_t head_dim = 0;  // 0: hidden / heads (T5's d_kv may differ)
  Activation activation = Activation::GeluErf;
  float norm_eps = 1e-12f;
  int64_t cross_width = 0;  // > 0: a cross-attention sublayer over states of this width (BERT's add_cross_attention)
  bool pre_norm = false;    // norm before each sublayer, residual after (T5); false: after the residual (BERT)
  bool rms_norm = false;    // T5's RMS norm (no mean, no bias) instead of LayerNorm
  bool bias = true;         // biases on every projection and norm (T5: none)
  bool gated_mlp = false;   // fc2(act(fc1(x)) * up(x)) (T5's gated-gelu wi_0, wi_1, wo); false: fc2(act(fc1(x)))
  float attention_scale = 0.0f;  // 0: 1/sqrt(head_dim); T5: 1
  int64_t heads_dim() const { return head_dim ? head_dim : hidden / heads; }
};

// HF names inside one layer; the defaults are BERT's (also RoBERTa's and the BLIP-2 Q-Former's).
struct EncoderLayerNames {
  std::string q = "attention.self.query", k = "attention.self.key", v = "attention.self.value";
  std::string attn_out = "attention.output.dense", attn_norm = "attention.output.LayerNorm";
  std::string cross_q = "crossattention.self.query", cross_k = "crossattention.self.key",
              cross_v = "crossattention.self.value";
  std::string cross_out = "crossattention.output.dense", cross_norm = "crossattention.output.LayerNorm";
  std::string fc1 = "intermediate.dense", fc2 = "output.dense", mlp_norm = "output.LayerNorm";
  std::string up = "";  // the gated MLP's second input projection (gated_mlp true)
};

// Bidirectional encoder layer (BERT, RoBERTa, the Q-Former, BridgeTower's cross-modal layers, T5's encoder):
//   post-norm:  x = N(x + O(SelfAttention(x)));  [x = N(x + O'(CrossAttention(x, states)))];  x = N(x + MLP(x))
//   pre-norm:   x += O(SelfAttention(N(x)));     [x += O'(CrossAttention(N(x), states))];     x += MLP(N(x))
class EncoderLayer {
 public:
  static EncoderLayer load(const WeightLoader& weights, const std::string& prefix, const EncoderLayerConfig& config,
                           const EncoderLayerNames& names = {});
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderLayerConfig& config,
                      const EncoderLayerNames& names = {});
  static void add_ops(std::vector<Op>& ops, const EncoderLayerConfig& config);
  // x [N, hidden] updated in place; rows attend within their `segments` (one per sequence; empty = one).
  // With cross-attention, segment i of x also attends to segment i of `cross` [M, cross_width]
  // (cross_segments; empty = one). `position_bias` [1, heads, N, N] is added to the self-attention scores
  // (one segment only).
  void forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross = nullptr,
               std::span<const int64_t> cross_segments = {}, const Tensor* position_bias = nullptr) const;
  const EncoderLayerConfig& config() const { return config_; }

 private:
  EncoderLayerConfig config_;
  Linear q_, k_, v_, attn_out_, cross_q_, cross_k_, cross_v_, cross_out_, fc1_, fc2_, up_;
  Norm attn_norm_, cross_norm_, mlp_norm_;
};

// A stack of EncoderLayers ("<prefix>.<i>"), the layers with cross-attention chosen by index (the BLIP-2
// Q-Former cross-attends every cross_attention_frequency layers; RoBERTa never; BridgeTower's cross-modal
// layers always), optionally with T5's relative position bias (shared by every layer) and a final norm.
struct EncoderStackConfig {
  int64_t layers = 0;
  EncoderLayerConfig layer;                // cross_width is the width of the cross states, when any layer has them
  int64_t cross_every = 0;                 // > 0: layer i cross-attends when i % cross_every == 0; 0: none
  std::string relative_bias;               // full name of the relative attention bias table; empty: none
  RelativePositionConfig relative;
  std::string final_norm;                  // full name of a norm after the last layer (T5); empty: none
  bool has_cross(int64_t index) const { return layer.cross_width > 0 && cross_every > 0 && index % cross_every == 0; }
};

class EncoderStack {
 public:
  static EncoderStack load(const WeightLoader& weights, const std::string& prefix, const EncoderStackConfig& config,
                           const EncoderLayerNames& names = {});
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const EncoderStackConfig& config,
                      const EncoderLayerNames& names = {});
  static void add_ops(std::vector<Op>& ops, const EncoderStackConfig& config);
  // Every layer over x [N, hidden] in place (see EncoderLayer::forward); `cross` is used by the layers that
  // cross-attend. With a relative bias, x is one sequence and `positions` its rows' positions (empty:
  // 0..N-1; T5 counts padding, so a row after padding keeps its padded position).
  void forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor* cross = nullptr,
               std::span<const int64_t> cross_segments = {}, std::span<const int64_t> positions = {}) const;

 private:
  EncoderStackConfig config_;
  std::vector<EncoderLayer> layers_;
  RelativePositionBias relative_;
  Norm final_norm_;
};

struct VitBlockConfig {
  int64_t dim = 0, heads = 0, mlp_hidden = 0;
  Activation activation = Activation::QuickGelu;
  float norm_eps = 1e-6f;
  bool fused_qkv = false;
  bool attention_bias = true;  // q/k/v and output projection biases (Mllama's vision layers: none)
  bool gated = false;          // tanh-gated residual branches (Mllama's global layers: gate_attn, gate_ffn)
};

// HF names; defaults are CLIP's. Qwen2-VL: norm1/norm2, attn.qkv (fused), attn.proj, mlp.fc1/fc2.
struct VitBlockNames {
  std::string norm1 = "layer_norm1", norm2 = "layer_norm2";
  std::string qkv = "", q = "self_attn.q_proj", k = "self_attn.k_proj", v = "self_attn.v_proj";
  std::string qkv_separator = ".";  // "_": nn.MultiheadAttention's attn.in_proj_weight / in_proj_bias
  std::string out = "self_attn.out_proj", fc1 = "mlp.fc1", fc2 = "mlp.fc2";
  std::string gate_attn = "gate_attn", gate_ffn = "gate_ffn";  // gated only
};

class VitBlock {
 public:
  static VitBlock load(const WeightLoader& weights, const std::string& prefix, const VitBlockConfig& config,
                       const VitBlockNames& names = {});
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const VitBlockConfig& config,
                      const VitBlockNames& names = {});
  // Without Rotary: the caller adds it when it passes rotary tables.
  static void add_ops(std::vector<Op>& ops, const VitBlockConfig& config);
  // x [N, dim] updated in place; tokens attend only within their segment (`segments` are lengths summing
  // to N; empty = one segment). cos/sin [N, head_dim] or undefined (no rotary). `masks`: per-segment key
  // or additive masks (padded patches, padded tiles).
  void forward(Workspace& ws, Tensor& x, std::span<const int64_t> segments, const Tensor& cos, const Tensor& sin,
               const SegmentMasks& masks = {}) const;

 private:
  VitBlockConfig config_;
  Norm norm1_, norm2_;
  Linear qkv_, q_, k_, v_, out_, fc1_, fc2_;
  float gate_attn_ = 1.0f, gate_ffn_ = 1.0f;  // tanh of the stored gates (gated only)
};

}  // namespace vlm
