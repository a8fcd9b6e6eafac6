#pragma once
// BLIP-2 configuration with the defaults of transformers' Blip2Config (v4.47) and its sub-configs
// (Blip2VisionConfig, Blip2QFormerConfig, and OPTConfig or T5Config for the language model).
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/nn/t5.hpp"
#include "vlm/nn/text_model.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm::blip2 {

struct VisionConfig {
  int64_t hidden_size = 1408, intermediate_size = 6144, num_hidden_layers = 39, num_attention_heads = 16;
  int64_t image_size = 224, patch_size = 14;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-6;
  bool qkv_bias = true;
  int64_t patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  VitBlockConfig block() const;
};

struct QFormerConfig {
  int64_t hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12, intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;
  int64_t cross_attention_frequency = 2;
  int64_t encoder_hidden_size = 1408;  // Blip2Config sets it to the vision width
  EncoderStackConfig stack() const;
};

// OPTConfig (v4.47) defaults; BLIP-2's OPT checkpoints (2.7b, 6.7b) are pre-norm without projections.
struct OptConfig {
  int64_t vocab_size = 50272, hidden_size = 768, num_hidden_layers = 12, ffn_dim = 3072, num_attention_heads = 12;
  int64_t max_position_embeddings = 2048;
  std::string activation_function = "relu";
  bool enable_bias = true, tie_word_embeddings = true;
  static OptConfig from(const ConfigView& text_config);
  TextModelConfig text_model() const;
};

struct Config {
  int64_t num_query_tokens = 32;
  int64_t image_token_index = -1;  // required: the new-style processing that places the query outputs
  VisionConfig vision;
  QFormerConfig qformer;
  bool encoder_decoder = false;  // T5 (else OPT)
  OptConfig opt;
  T5Config t5;
  int64_t text_hidden() const { return encoder_decoder ? t5.d_model : opt.hidden_size; }
  int64_t text_vocab() const { return encoder_decoder ? t5.vocab_size : opt.vocab_size; }
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::blip2
