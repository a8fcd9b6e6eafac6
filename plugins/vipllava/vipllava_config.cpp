#include "vipllava_config.hpp"

namespace vlm::vipllava {

std::vector<int64_t> Config::feature_layer_indices() const {
  std::vector<int64_t> out;
  for (const int64_t layer : vision_feature_layers) out.push_back(vision.resolve_layer(layer, "vision_feature_layers"));
  return out;
}

Config Config::from(const ConfigView& view) {
  Config c;
  c.image_token_index = view.get_or("image_token_index", c.image_token_index);
  c.projector_hidden_act = view.get_or<std::string>("projector_hidden_act", c.projector_hidden_act);
  c.projector_layernorm_eps = view.get_or("projector_layernorm_eps", c.projector_layernorm_eps);
  c.vision_feature_layers = view.get_or("vision_feature_layers", c.vision_feature_layers);
  // VipLlavaConfig without a vision_config builds CLIP ViT-L/14-336, not CLIPVisionConfig's defaults.
  ClipVisionConfig vision_defaults;
  if (!view.has("vision_config")) {
    vision_defaults.hidden_size = 1024;
    vision_defaults.intermediate_size = 4096;
    vision_defaults.num_hidden_layers = 24;
    vision_defaults.num_attention_heads = 16;
    vision_defaults.image_size = 336;
    vision_defaults.patch_size = 14;
  }
  c.vision = ClipVisionConfig::from(view.child("vision_config"), vision_defaults);
  c.text = LlamaConfig::from(view.child("text_config"));

  if (c.vision_feature_layers.empty()) fail("{}: must name at least one layer", view.where("vision_feature_layers"));
  for (const int64_t layer : c.vision_feature_layers) c.vision.resolve_layer(layer, view.where("vision_feature_layers"));
  if (c.image_token_index < 0 || c.image_token_index >= c.text.vocab_size)
    fail("{}: {} is outside the text vocabulary of {}", view.where("image_token_index"), c.image_token_index,
         c.text.vocab_size);
  return c;
}

}  // namespace vlm::vipllava
