#pragma once
// Idefics2 configuration with the defaults of transformers' Idefics2Config (v4.47) and the sub-config
// classes it builds (Idefics2VisionConfig, Idefics2PerceiverConfig, MistralConfig): absent keys take
// those classes' defaults, as save_pretrained writes only non-default ones.
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/nn/llama.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm::idefics2 {

struct VisionConfig {
  int64_t hidden_size = 768, intermediate_size = 3072, num_hidden_layers = 12, num_attention_heads = 12;
  int64_t num_channels = 3, image_size = 224, patch_size = 32;
  std::string hidden_act = "gelu_pytorch_tanh";
  double layer_norm_eps = 1e-6;
  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t patch_row() const { return num_channels * patch_size * patch_size; }
  VitBlockConfig block() const;
};

struct PerceiverConfig {
  std::string hidden_act = "silu";
  int64_t hidden_size = 4096;  // the text width (Idefics2Config overwrites it with text_config's)
  double rms_norm_eps = 1e-6;
  int64_t resampler_n_latents = 64, resampler_depth = 3, resampler_n_heads = 16, resampler_head_dim = 96;
  int64_t num_key_value_heads = 4;
};

struct Config {
  int64_t image_token_id = 32001;
  bool tie_word_embeddings = false;
  VisionConfig vision;
  PerceiverConfig perceiver;
  LlamaConfig text;  // Mistral

  TextModelConfig text_model() const;
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::idefics2
