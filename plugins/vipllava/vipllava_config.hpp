#pragma once
// VipLlava configuration with the defaults of transformers' VipLlavaConfig (v4.47) and of the sub-config
// classes it builds from dicts (CLIPVisionConfig, LlamaConfig): save_pretrained writes only non-default
// sub-config keys, so absent keys must take those classes' defaults.
#include <string>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/nn/clip_vision.hpp"
#include "vlm/nn/llama.hpp"

namespace vlm::vipllava {

struct Config {
  int64_t image_token_index = 32000;
  std::string projector_hidden_act = "gelu";
  double projector_layernorm_eps = 1e-5;
  // Indices into CLIP's hidden_states tuple (0 = embeddings, i = output of layer i; negative from the end).
  std::vector<int64_t> vision_feature_layers{-2, -5, -8, -11, 6};
  ClipVisionConfig vision;
  LlamaConfig text;

  // vision_feature_layers resolved to 0..num_hidden_layers, in the order they are concatenated.
  std::vector<int64_t> feature_layer_indices() const;
  // The decoder's TextModel (names under language_model.).
  TextModelConfig text_model() const { return text.text_model("language_model.model", "language_model.lm_head"); }
  int64_t projector_input() const { return int64_t(vision_feature_layers.size()) * vision.hidden_size; }
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::vipllava
