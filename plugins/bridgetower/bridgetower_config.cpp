#include "bridgetower_config.hpp"

#include "vlm/nn/layers.hpp"
#include "vlm/util/error.hpp"

namespace vlm::bridgetower {

TextEmbeddingsConfig TextConfig::embeddings() const {
  TextEmbeddingsConfig e;
  e.vocab_size = vocab_size;
  e.hidden = hidden_size;
  e.max_positions = max_position_embeddings;
  e.type_vocab_size = type_vocab_size;
  e.norm_eps = float(layer_norm_eps);
  e.padding_idx = pad_token_id;  // RoBERTa positions: padding_idx + 1 + the count of non-padding ids so far
  return e;
}

EncoderLayerConfig TextConfig::layer() const {
  EncoderLayerConfig l;
  l.hidden = hidden_size;
  l.heads = num_attention_heads;
  l.intermediate = intermediate_size;
  l.activation = activation_from_name(hidden_act);
  l.norm_eps = float(layer_norm_eps);
  return l;
}

ClipVisionConfig VisionConfig::clip() const {
  ClipVisionConfig c;
  c.hidden_size = hidden_size;
  c.intermediate_size = 4 * hidden_size;
  c.num_hidden_layers = resblocks();
  c.num_attention_heads = hidden_size / 64;
  c.num_channels = num_channels;
  c.image_size = image_size;
  c.patch_size = patch_size;
  c.hidden_act = "quick_gelu";
  c.layer_norm_eps = layer_norm_eps;
  return c;
}

namespace {

TextConfig text_from(const ConfigView& t) {
  TextConfig c;
  c.vocab_size = t.get_or("vocab_size", c.vocab_size);
  c.hidden_size = t.get_or("hidden_size", c.hidden_size);
  c.num_hidden_layers = t.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = t.get_or("num_attention_heads", c.num_attention_heads);
  c.intermediate_size = t.get_or("intermediate_size", c.intermediate_size);
  c.max_position_embeddings = t.get_or("max_position_embeddings", c.max_position_embeddings);
  c.type_vocab_size = t.get_or("type_vocab_size", c.type_vocab_size);
  c.pad_token_id = t.get_or("pad_token_id", c.pad_token_id);
  c.hidden_act = t.get_or<std::string>("hidden_act", c.hidden_act);
  c.layer_norm_eps = t.get_or("layer_norm_eps", c.layer_norm_eps);
  for (const auto& [key, value] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_attention_heads", c.num_attention_heads},
                                   {"intermediate_size", c.intermediate_size},
                                   {"max_position_embeddings", c.max_position_embeddings},
                                   {"type_vocab_size", c.type_vocab_size}})
    require_positive(t, key, value);
  if (c.hidden_size % c.num_attention_heads)
    fail("{}: hidden_size {} is not a multiple of {} heads", t.where("num_attention_heads"), c.hidden_size,
         c.num_attention_heads);
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
    fail("{}: {} is outside the vocabulary of {}", t.where("pad_token_id"), c.pad_token_id, c.vocab_size);
  if (t.get_or<std::string>("position_embedding_type", "absolute") != "absolute")
    fail("{}: only absolute positions are supported", t.where("position_embedding_type"));
  activation_from_name(c.hidden_act);
  return c;
}

VisionConfig vision_from(const ConfigView& v) {
  VisionConfig c;
  c.hidden_size = v.get_or("hidden_size", c.hidden_size);
  c.num_hidden_layers = v.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_channels = v.get_or("num_channels", c.num_channels);
  c.patch_size = v.get_or("patch_size", c.patch_size);
  c.image_size = v.get_or("image_size", c.image_size);
  c.layer_norm_eps = v.get_or("layer_norm_eps", c.layer_norm_eps);
  c.share_layernorm = v.get_or("share_layernorm", c.share_layernorm);
  c.remove_last_layer = v.get_or("remove_last_layer", c.remove_last_layer);
  for (const auto& [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_channels", c.num_channels}, {"patch_size", c.patch_size},
                                   {"image_size", c.image_size}})
    require_positive(v, key, value);
  if (c.hidden_size % 64)
    fail("{}: {} is not a multiple of 64 (BridgeTower's vision heads are 64 wide)", v.where("hidden_size"),
         c.hidden_size);
  if (c.image_size % c.patch_size)
    fail("{}: {} is not a multiple of patch_size {}", v.where("image_size"), c.image_size, c.patch_size);
  if (c.resblocks() < 1) fail("{}: no vision layer is left", v.where("remove_last_layer"));
  return c;
}

}  // namespace

Config Config::from(const ConfigView& view) {
  Config c;
  c.text = text_from(view.child("text_config"));
  c.vision = vision_from(view.child("vision_config"));
  c.hidden_size = view.get_or("hidden_size", c.hidden_size);
  c.num_hidden_layers = view.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = view.get_or("num_attention_heads", c.num_attention_heads);
  c.contrastive_hidden_size = view.get_or("contrastive_hidden_size", c.contrastive_hidden_size);
  c.layer_norm_eps = view.get_or("layer_norm_eps", c.layer_norm_eps);
  c.hidden_act = view.get_or<std::string>("hidden_act", c.hidden_act);
  for (const auto& [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"num_hidden_layers", c.num_hidden_layers},
                                   {"contrastive_hidden_size", c.contrastive_hidden_size}})
    require_positive(view, key, value);
  if (view.has("architectures") && view.json()["architectures"].is_array())
    for (const auto& name : view.json()["architectures"]) {
      if (!name.is_string()) continue;
      const auto n = name.get<std::string>();
      c.declares_itm |= n == "BridgeTowerForImageAndTextRetrieval";
      c.declares_contrastive |= n == "BridgeTowerForContrastiveLearning";
      c.declares_mlm |= n == "BridgeTowerForMaskedLM";
    }
  const std::string link = view.get_or<std::string>("link_tower_type", "add");
  if (link == "add") c.link_tower = LinkTower::Add;
  else if (link == "scaled_add") c.link_tower = LinkTower::ScaledAdd;
  else if (link == "interpolate") c.link_tower = LinkTower::Interpolate;
  else fail("{}: '{}' is not one of add, scaled_add, interpolate", view.where("link_tower_type"), link);
  // transformers 4.47.1 cannot run the other settings (it calls a ModuleList / indexes a single module).
  if (!view.get_or("share_cross_modal_transformer_layers", true))
    fail("{}: false is not supported (transformers 4.47.1 cannot run it either)",
         view.where("share_cross_modal_transformer_layers"));
  if (view.get_or("share_link_tower_layers", false))
    fail("{}: true is not supported (transformers 4.47.1 cannot run it either)", view.where("share_link_tower_layers"));
  // The cross-modal part adds hidden-size token types to both towers' features (and the ITC image head
  // reads vision-width features through a hidden-size layer), so the three widths must agree.
  if (c.text.hidden_size != c.hidden_size || c.vision.hidden_size != c.hidden_size)
    fail("{}: {} differs from text_config's {} or vision_config's {}; BridgeTower needs one width", view.where("hidden_size"),
         c.hidden_size, c.text.hidden_size, c.vision.hidden_size);
  if (c.num_hidden_layers > c.text.num_hidden_layers || c.num_hidden_layers > c.vision.resblocks())
    fail("{}: {} cross-modal layers need as many text ({}) and vision ({}) layers to pair with", view.where("num_hidden_layers"),
         c.num_hidden_layers, c.text.num_hidden_layers, c.vision.resblocks());
  if (c.text.num_hidden_layers != c.vision.resblocks())
    fail("{}: {} text layers but {} vision layers; BridgeTower runs them side by side", view.where("text_config"),
         c.text.num_hidden_layers, c.vision.resblocks());
  activation_from_name(c.hidden_act);
  return c;
}

}  // namespace vlm::bridgetower
