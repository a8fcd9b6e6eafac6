#pragma once
// A pre-norm causal text model: token embeddings, a stack of DecoderLayers, a final norm and an LM head
// (tied to the embeddings or not). Qwen2, Llama-2/3, Mistral and OPT decoders are this block with different
// options. Positions are rotary (the tables come from the caller, so 1-D RoPE and Qwen2-VL's M-RoPE share
// it) or learned absolute embeddings added to the input (OPT: row position + offset).
#include <span>
#include <string>
#include <vector>

#include "vlm/model/components.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm {

struct TextModelConfig {
  int64_t vocab_size = 0;
  int64_t layers = 0;
  DecoderLayerConfig layer;
  bool tie_word_embeddings = false;
  std::string prefix = "model";       // "<prefix>.<embed>", "<prefix>.<layers_name>.N", "<prefix>.<final_norm>"
  std::string lm_head = "lm_head";
  std::string embed = "embed_tokens", final_norm = "norm";  // OPT: "embed_tokens", "final_layer_norm"
  std::string layers_name = "layers";                       // T5: "block"
  std::string embed_table;  // full name of a token table shared outside the prefix (T5: "shared"); empty: <prefix>.<embed>
  // T5's relative position bias: "<prefix>.<relative_bias>" (e.g. block.0.layer.0.SelfAttention.relative_attention_bias),
  // causal buckets, shared by every layer. Empty: none.
  std::string relative_bias;
  RelativePositionConfig relative{32, 128, false};
  float lm_head_input_scale = 1.0f;  // T5 with tied embeddings scales the final states by d_model^-0.5
  // Learned absolute positions (layer.rotary false): "<prefix>.<positions>" [max_positions + offset, hidden],
  // row p + offset for position p (OPT: "embed_positions", offset 2). Empty: none.
  std::string positions;
  int64_t position_offset = 0, max_positions = 0;
  DecoderLayerNames names;
  // Layer indices that are gated cross-attention layers (Mllama's cross_attention_layers); the rest are
  // self-attention DecoderLayers. Each kind keeps its own names.
  std::vector<int64_t> cross_layers;
  CrossAttentionLayerNames cross_names;
  int64_t lm_head_vocab = 0;  // LM head rows when they differ from the embedding rows (Mllama); 0 = vocab_size
  int64_t output_vocab() const { return lm_head_vocab ? lm_head_vocab : vocab_size; }
  bool is_cross_layer(int64_t index) const;
  std::string embed_name() const { return embed_table.empty() ? prefix + "." + embed : embed_table; }
  std::string layer_name(int64_t index) const { return prefix + "." + layers_name + "." + std::to_string(index); }
};

class TextModel {
 public:
  static TextModel load(const WeightLoader& weights, const TextModelConfig& config);
  // The tensors load() reads (lm_head optional when tied: HF does not save it).
  static void declare(std::vector<TensorSpec>& specs, const TextModelConfig& config);
  // The ops of the model and of its sessions (a bf16 KV cache converts what it stores).
  static void add_ops(std::vector<Op>& ops, const TextModelConfig& config);
  const TextModelConfig& config() const { return config_; }

  // ids (host, i64, N) -> out [N, hidden] f32 on the backend. Errors name any id outside the vocabulary.
  void embed(Workspace& ws, std::span<const int64_t> ids, Tensor& out) const;
  bool learned_positions() const { return positions_.defined(); }
  // rows [N, hidden] += the learned embeddings of `positions` (host, N; -1 for padding); Error outside the table.
  void add_positions(Workspace& ws, std::span<const int64_t> positions, Tensor& rows) const;
  // Runs every layer over hidden [N, hidden] in place: the rows of `sequences`, each at its own cache slot
  // and length, with cos/sin [N, head_dim] each row's rotary table. Advances each slot by its row count.
  void forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin,
               std::span<const SequenceRows> sequences, KVCache& cache) const;
  // Final norm + LM head over hidden rows [R, hidden] -> logits [R, vocab].
  void logits(Workspace& ws, const Tensor& hidden_rows, Tensor& out) const;
  // Final norm only (HF's last_hidden_state).
  void final_norm(Backend& backend, const Tensor& hidden_rows, Tensor& out) const;
  int64_t hidden_size() const { return config_.layer.hidden; }
  int64_t self_attention_layers() const { return int64_t(layers_.size()); }  // the KV cache's layers
  int64_t cross_attention_layers() const { return cross_count_; }
  // A sequence's image (or encoder) states [T, hidden] -> keys and values for every layer that cross-attends
  // (gated cross-attention layers, and decoder layers with a cross-attention sublayer), in layer order.
  std::vector<CrossKV> project_cross(Workspace& ws, const Tensor& states) const;
  int64_t head_dim() const { return config_.layer.head_dim; }

 private:
  // The sequences with each one's relative position bias for this forward (T5).
  std::span<const SequenceRows> with_position_bias(Workspace& ws, std::span<const SequenceRows> sequences,
                                                   const KVCache& cache) const;
  TextModelConfig config_;
  Tensor embed_tokens_;
  Tensor positions_;  // learned absolute positions, or undefined
  std::vector<DecoderLayer> layers_;
  std::vector<CrossAttentionLayer> cross_;
  std::vector<int64_t> order_;  // per layer index: >= 0 a self-attention layer, < 0 cross layer -(order + 1)
  std::vector<int> cross_index_;  // per layer index: its index among the layers that cross-attend, or -1
  int64_t cross_count_ = 0;
  RelativePositionBias relative_;
  Norm norm_;
  Tensor lm_head_;  // the embedding table when tied
};

// Replaces the embedding rows of image (or video) tokens with vision features, in order: the i-th
// position whose id is `token_id` receives features row i. A count mismatch is an Error saying how many
// placeholders the prompt has and how many features the images produced.
void merge_features(Backend& backend, std::span<const int64_t> ids, int64_t token_id, const Tensor& features,
                    Tensor& embeds, const std::string& what = "image");

}  // namespace vlm
