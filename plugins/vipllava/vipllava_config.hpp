#pragma once
// VipLlava configuration with the defaults of transformers' VipLlavaConfig (v4.47) and of the sub-config
// classes it builds from dicts (CLIPVisionConfig, LlamaConfig): save_pretrained writes only non-default
// sub-config keys, so absent keys must take those classes' defaults.
#include <string>
#include <vector>

#include "vlm/io/config.hpp"

namespace vlm::vipllava {

// CLIPVisionConfig defaults (openai/clip-vit-base-patch32 shape).
struct VisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;

  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t num_patches() const { return patches_per_side() * patches_per_side(); }
  int64_t patch_row() const { return num_channels * patch_size * patch_size; }  // flattened Conv2d kernel
};

// LlamaConfig defaults (Llama-2-7B shape).
struct TextConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // LlamaConfig: None -> num_attention_heads
  int64_t head_dim = 128;            // LlamaConfig: None -> hidden_size / num_attention_heads
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool attention_bias = false;
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
};

struct Config {
  int64_t image_token_index = 32000;
  std::string projector_hidden_act = "gelu";
  double projector_layernorm_eps = 1e-5;
  // Indices into CLIP's hidden_states tuple (0 = embeddings, i = output of layer i; negative from the end).
  std::vector<int64_t> vision_feature_layers{-2, -5, -8, -11, 6};
  VisionConfig vision;
  TextConfig text;

  // vision_feature_layers resolved to 0..num_hidden_layers, in the order they are concatenated.
  std::vector<int64_t> feature_layer_indices() const;
  int64_t projector_input() const { return int64_t(vision_feature_layers.size()) * vision.hidden_size; }
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::vipllava
