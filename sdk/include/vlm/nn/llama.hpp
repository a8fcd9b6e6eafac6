#pragma once
// The Llama text side that LLaVA-style families share: LlamaConfig with transformers' defaults, and a
// decoder whose image features replace the embeddings of one placeholder token. Positions count real
// tokens only (HF generate: position_ids = cumsum(attention_mask) - 1), so a left-padded row is
// positioned as if it had no padding.
#include <string>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/nn/rotary.hpp"
#include "vlm/nn/text_session.hpp"

namespace vlm {

// LlamaConfig (transformers v4.47) defaults (Llama-2-7B shape) for absent keys.
struct LlamaConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // None -> num_attention_heads
  int64_t head_dim = 128;            // None -> hidden_size / num_attention_heads
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;  // default, linear or llama3 (Llama 3.x)
  bool attention_bias = false;
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  int64_t sliding_window = 0;  // Mistral: each position sees the last sliding_window positions; 0 = all

  // From a text_config object (model_type llama or absent); validates, and refuses RoPE variants it cannot
  // compute exactly rather than silently computing other positions. Errors name the key.
  static LlamaConfig from(const ConfigView& text_config);
  // The same for model_type "mistral" (Mistral is Llama plus a sliding window), with MistralConfig's
  // defaults for absent keys (7B shape, 8 KV heads, sliding_window 4096, 131072 positions).
  static LlamaConfig from_mistral(const ConfigView& text_config);
  // The shared TextModel with Llama's tensor names under `prefix` (e.g. "language_model.model").
  TextModelConfig text_model(const std::string& prefix, const std::string& lm_head) const;
};

class PlaceholderDecoder final : public TextModelDecoder {
 public:
  // `placeholder` is the token id whose embeddings the connector's features replace, in order.
  PlaceholderDecoder(const LlamaConfig& config, const TextModelConfig& model, int64_t placeholder,
                     const WeightLoader& weights, Backend& backend);
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_context() const override { return config_.max_position_embeddings; }

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override;

  LlamaConfig config_;
  int64_t placeholder_;
};

}  // namespace vlm
