#pragma once
// Mllama (Llama 3.2 Vision) configuration with the defaults of transformers' MllamaConfig (v4.47) and its
// sub-configs (MllamaVisionConfig, MllamaTextConfig): absent keys take those classes' defaults.
#include <string>
#include <utility>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/nn/rotary.hpp"
#include "vlm/nn/text_model.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm::mllama {

struct VisionConfig {
  int64_t hidden_size = 1280, intermediate_size = 5120, num_hidden_layers = 32, num_global_layers = 8;
  int64_t attention_heads = 16;  // saved as "attention_heads"
  int64_t num_channels = 3, image_size = 448, patch_size = 14, max_num_tiles = 4;
  int64_t vision_output_dim = 7680;
  std::string hidden_act = "gelu";
  double norm_eps = 1e-5;
  std::vector<int64_t> intermediate_layers_indices{3, 7, 15, 23, 30};
  std::vector<std::pair<int64_t, int64_t>> supported_aspect_ratios;  // (tiles down, tiles across)

  int64_t grid() const { return image_size / patch_size; }
  int64_t patches() const { return grid() * grid() + 1; }  // per tile, with the class token
  int64_t padded_patches() const { return patches() + (8 - patches() % 8) % 8; }
  int64_t patch_row() const { return num_channels * patch_size * patch_size; }
  int64_t output_dim() const { return hidden_size * (1 + int64_t(intermediate_layers_indices.size())); }
  VitBlockConfig block(bool gated) const;
};

struct TextConfig {
  int64_t vocab_size = 128256, hidden_size = 4096, intermediate_size = 14336, num_hidden_layers = 40;
  int64_t num_attention_heads = 32, num_key_value_heads = 8, max_position_embeddings = 131072;
  std::string hidden_act = "silu";
  double rms_norm_eps = 1e-5, rope_theta = 500000.0;
  RopeScaling rope_scaling;
  std::vector<int64_t> cross_attention_layers{3, 8, 13, 18, 23, 28, 33, 38};
  bool tie_word_embeddings = false;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Under "language_model.model" (MllamaForConditionalGeneration) or "model" (MllamaForCausalLM).
  TextModelConfig text_model(const std::string& prefix, const std::string& lm_head) const;
  static TextConfig from(const ConfigView& text_config);
};

struct Config {
  int64_t image_token_index = 128256;
  bool text_only = false;  // a MllamaForCausalLM checkpoint (model_type mllama_text_model): no vision side
  VisionConfig vision;
  TextConfig text;
  TextModelConfig text_model() const {
    return text_only ? text.text_model("model", "lm_head") : text.text_model("language_model.model", "language_model.lm_head");
  }
  static Config from(const ConfigView& view);  // validates: Error names the key
};

// MllamaImageProcessor's get_all_supported_aspect_ratios: (a, b) with a * b <= max_tiles, a then b ascending.
std::vector<std::pair<int64_t, int64_t>> supported_aspect_ratios(int64_t max_tiles);

}  // namespace vlm::mllama
