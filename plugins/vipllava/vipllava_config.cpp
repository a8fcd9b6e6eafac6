#include "vipllava_config.hpp"

namespace vlm::vipllava {

namespace {

void require_positive(const ConfigView& where, const char* key, int64_t value) {
  if (value <= 0) fail("{}: must be positive, found {}", where.where(key), value);
}

VisionConfig vision_from(const ConfigView& v, VisionConfig c) {
  c.hidden_size = v.get_or("hidden_size", c.hidden_size);
  c.intermediate_size = v.get_or("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = v.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = v.get_or("num_attention_heads", c.num_attention_heads);
  c.num_channels = v.get_or("num_channels", c.num_channels);
  c.image_size = v.get_or("image_size", c.image_size);
  c.patch_size = v.get_or("patch_size", c.patch_size);
  c.hidden_act = v.get_or<std::string>("hidden_act", c.hidden_act);
  c.layer_norm_eps = v.get_or("layer_norm_eps", c.layer_norm_eps);
  for (const auto& [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_attention_heads", c.num_attention_heads}, {"num_channels", c.num_channels},
                                   {"image_size", c.image_size}, {"patch_size", c.patch_size}})
    require_positive(v, key, value);
  if (c.hidden_size % c.num_attention_heads)
    fail("{}: {} is not divisible by num_attention_heads {}", v.where("hidden_size"), c.hidden_size,
         c.num_attention_heads);
  if (c.image_size % c.patch_size)
    fail("{}: {} is not a multiple of patch_size {}", v.where("image_size"), c.image_size, c.patch_size);
  return c;
}

TextConfig text_from(const ConfigView& t) {
  TextConfig c;
  if (t.has("model_type") && t.get<std::string>("model_type") != "llama")
    fail("{}: only a llama text model is supported, found '{}'", t.where("model_type"),
         t.get<std::string>("model_type"));
  c.vocab_size = t.get_or("vocab_size", c.vocab_size);
  c.hidden_size = t.get_or("hidden_size", c.hidden_size);
  c.intermediate_size = t.get_or("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = t.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = t.get_or("num_attention_heads", c.num_attention_heads);
  // LlamaConfig: num_key_value_heads and head_dim default from the (possibly given) head count and width.
  c.num_key_value_heads = t.get_or("num_key_value_heads", c.num_attention_heads);
  require_positive(t, "num_attention_heads", c.num_attention_heads);
  c.head_dim = t.get_or("head_dim", c.hidden_size / c.num_attention_heads);
  c.hidden_act = t.get_or<std::string>("hidden_act", c.hidden_act);
  c.max_position_embeddings = t.get_or("max_position_embeddings", c.max_position_embeddings);
  c.rms_norm_eps = t.get_or("rms_norm_eps", c.rms_norm_eps);
  c.rope_theta = t.get_or("rope_theta", c.rope_theta);
  c.attention_bias = t.get_or("attention_bias", c.attention_bias);
  c.mlp_bias = t.get_or("mlp_bias", c.mlp_bias);
  c.tie_word_embeddings = t.get_or("tie_word_embeddings", c.tie_word_embeddings);
  // Only plain RoPE: scaled variants (linear, dynamic, llama3, ...) would silently change the positions.
  const ConfigView rope = t.child("rope_scaling");
  const std::string rope_type = rope.get_any_or<std::string>({"rope_type", "type"}, "default");
  if (rope_type != "default") fail("{}: rope type '{}' is not supported", rope.where("rope_type"), rope_type);
  for (const auto& [key, value] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                                   {"intermediate_size", c.intermediate_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim}})
    require_positive(t, key, value);
  if (c.num_attention_heads % c.num_key_value_heads)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", t.where("num_key_value_heads"),
         c.num_attention_heads, c.num_key_value_heads);
  return c;
}

}  // namespace

std::vector<int64_t> Config::feature_layer_indices() const {
  // hidden_states holds num_hidden_layers + 1 entries; Python indexing wraps negatives once.
  const int64_t states = vision.num_hidden_layers + 1;
  std::vector<int64_t> out;
  for (const int64_t layer : vision_feature_layers) out.push_back(layer < 0 ? layer + states : layer);
  return out;
}

Config Config::from(const ConfigView& view) {
  Config c;
  c.image_token_index = view.get_or("image_token_index", c.image_token_index);
  c.projector_hidden_act = view.get_or<std::string>("projector_hidden_act", c.projector_hidden_act);
  c.projector_layernorm_eps = view.get_or("projector_layernorm_eps", c.projector_layernorm_eps);
  c.vision_feature_layers = view.get_or("vision_feature_layers", c.vision_feature_layers);
  // VipLlavaConfig without a vision_config builds CLIP ViT-L/14-336, not CLIPVisionConfig's defaults.
  VisionConfig vision_defaults;
  if (!view.has("vision_config")) {
    vision_defaults.hidden_size = 1024;
    vision_defaults.intermediate_size = 4096;
    vision_defaults.num_hidden_layers = 24;
    vision_defaults.num_attention_heads = 16;
    vision_defaults.image_size = 336;
    vision_defaults.patch_size = 14;
  }
  c.vision = vision_from(view.child("vision_config"), vision_defaults);
  c.text = text_from(view.child("text_config"));

  if (c.vision_feature_layers.empty()) fail("{}: must name at least one layer", view.where("vision_feature_layers"));
  const int64_t states = c.vision.num_hidden_layers + 1;
  for (const int64_t layer : c.vision_feature_layers)
    if (layer < -states || layer >= states)
      fail("{}: layer {} is outside the {} hidden states of the vision tower", view.where("vision_feature_layers"),
           layer, states);
  if (c.image_token_index < 0 || c.image_token_index >= c.text.vocab_size)
    fail("{}: {} is outside the text vocabulary of {}", view.where("image_token_index"), c.image_token_index,
         c.text.vocab_size);
  return c;
}

}  // namespace vlm::vipllava
