#pragma once
// A Llama-style causal text model: token embeddings, a stack of DecoderLayers, a final RMSNorm and an LM
// head (tied to the embeddings or not). Qwen2, Llama-2/3 and Mistral decoders are this block with
// different options; the rotary tables come from the caller, so 1-D RoPE and Qwen2-VL's M-RoPE share it.
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
  std::string prefix = "model";       // "<prefix>.embed_tokens", "<prefix>.layers.N", "<prefix>.norm"
  std::string lm_head = "lm_head";
  DecoderLayerNames names;
};

class TextModel {
 public:
  static TextModel load(const WeightLoader& weights, const TextModelConfig& config);
  const TextModelConfig& config() const { return config_; }

  // ids (host, i64, N) -> out [N, hidden] f32 on the backend. Errors name any id outside the vocabulary.
  void embed(Workspace& ws, std::span<const int64_t> ids, Tensor& out) const;
  // Runs every layer over hidden [B, S, hidden] in place, with rotary tables cos/sin [B, S, head_dim].
  // The cache must have been prepare()d for S positions; this commits it.
  void forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin, KVCache& cache) const;
  // Final norm + LM head over hidden rows [R, hidden] -> logits [R, vocab].
  void logits(Workspace& ws, const Tensor& hidden_rows, Tensor& out) const;
  // Final norm only (HF's last_hidden_state).
  void final_norm(Backend& backend, const Tensor& hidden_rows, Tensor& out) const;
  // After a prompt forward over hidden [B, S, hidden]: records "last_hidden_state" and full "logits" when
  // the trace wants them, and returns the logits [B, vocab] (host) of each row's last position (left
  // padding puts it at S - 1).
  Tensor prompt_logits(Workspace& ws, const Tensor& hidden, Trace* trace) const;

 private:
  TextModelConfig config_;
  Tensor embed_tokens_;
  std::vector<DecoderLayer> layers_;
  Norm norm_;
  Tensor lm_head_;  // the embedding table when tied
};

// Replaces the embedding rows of image (or video) tokens with vision features, in order: the i-th
// position whose id is `token_id` receives features row i. A count mismatch is an Error saying how many
// placeholders the prompt has and how many features the images produced.
void merge_features(Backend& backend, std::span<const int64_t> ids, int64_t token_id, const Tensor& features,
                    Tensor& embeds, const std::string& what = "image");

}  // namespace vlm
