#include "idefics2_config.hpp"

#include "vlm/util/error.hpp"

namespace vlm::idefics2 {

VitBlockConfig VisionConfig::block() const {
  VitBlockConfig b;
  b.dim = hidden_size;
  b.heads = num_attention_heads;
  b.mlp_hidden = intermediate_size;
  b.activation = activation_from_name(hidden_act);
  b.norm_eps = float(layer_norm_eps);
  return b;
}

TextModelConfig Config::text_model() const {
  TextModelConfig m = text.text_model("model.text_model", "lm_head");
  m.tie_word_embeddings = tie_word_embeddings;
  return m;
}

Config Config::from(const ConfigView& view) {
  Config c;
  c.image_token_id = view.get_or("image_token_id", c.image_token_id);
  c.tie_word_embeddings = view.get_or("tie_word_embeddings", c.tie_word_embeddings);

  const ConfigView v = view.child("vision_config");
  auto& vc = c.vision;
  vc.hidden_size = v.get_or("hidden_size", vc.hidden_size);
  vc.intermediate_size = v.get_or("intermediate_size", vc.intermediate_size);
  vc.num_hidden_layers = v.get_or("num_hidden_layers", vc.num_hidden_layers);
  vc.num_attention_heads = v.get_or("num_attention_heads", vc.num_attention_heads);
  vc.num_channels = v.get_or("num_channels", vc.num_channels);
  vc.image_size = v.get_or("image_size", vc.image_size);
  vc.patch_size = v.get_or("patch_size", vc.patch_size);
  vc.hidden_act = v.get_or<std::string>("hidden_act", vc.hidden_act);
  vc.layer_norm_eps = v.get_or("layer_norm_eps", vc.layer_norm_eps);
  for (const auto& [key, value] : {std::pair{"hidden_size", vc.hidden_size}, {"intermediate_size", vc.intermediate_size},
                                   {"num_hidden_layers", vc.num_hidden_layers},
                                   {"num_attention_heads", vc.num_attention_heads}, {"image_size", vc.image_size},
                                   {"patch_size", vc.patch_size}})
    require_positive(v, key, value);
  if (vc.num_channels != 3) fail("{}: only RGB (3) is supported, found {}", v.where("num_channels"), vc.num_channels);
  if (vc.hidden_size % vc.num_attention_heads)
    fail("{}: hidden_size {} is not a multiple of {} heads", v.where("num_attention_heads"), vc.hidden_size,
         vc.num_attention_heads);
  if (vc.image_size < vc.patch_size) fail("{}: smaller than patch_size {}", v.where("image_size"), vc.patch_size);
  activation_from_name(vc.hidden_act);

  // Idefics2Config: no text_config builds MistralConfig with these overrides; a dict is MistralConfig(**dict).
  if (view.has("text_config")) {
    c.text = LlamaConfig::from_mistral(view.child("text_config"));
  } else {
    c.text = LlamaConfig::from_mistral(ConfigView());
    c.text.max_position_embeddings = 4096 * 8;
    c.text.rms_norm_eps = 1e-5;
  }

  const ConfigView p = view.child("perceiver_config");
  auto& pc = c.perceiver;
  pc.hidden_act = p.get_or<std::string>("hidden_act", pc.hidden_act);
  pc.hidden_size = p.get_or("hidden_size", pc.hidden_size);
  pc.rms_norm_eps = p.get_or("rms_norm_eps", pc.rms_norm_eps);
  pc.resampler_n_latents = p.get_or("resampler_n_latents", pc.resampler_n_latents);
  pc.resampler_depth = p.get_or("resampler_depth", pc.resampler_depth);
  pc.resampler_n_heads = p.get_or("resampler_n_heads", pc.resampler_n_heads);
  pc.resampler_head_dim = p.get_or("resampler_head_dim", pc.resampler_head_dim);
  pc.num_key_value_heads = p.get_or("num_key_value_heads", pc.num_key_value_heads);
  // Idefics2Config makes the perceiver as wide as the text model, with its norm epsilon.
  if (pc.hidden_size != c.text.hidden_size) {
    pc.hidden_size = c.text.hidden_size;
    pc.rms_norm_eps = c.text.rms_norm_eps;
  }
  for (const auto& [key, value] :
       {std::pair{"resampler_n_latents", pc.resampler_n_latents}, {"resampler_depth", pc.resampler_depth},
        {"resampler_n_heads", pc.resampler_n_heads}, {"resampler_head_dim", pc.resampler_head_dim},
        {"num_key_value_heads", pc.num_key_value_heads}})
    require_positive(p, key, value);
  if (pc.resampler_n_heads % pc.num_key_value_heads)
    fail("{}: resampler_n_heads {} is not a multiple of num_key_value_heads {}", p.where("num_key_value_heads"),
         pc.resampler_n_heads, pc.num_key_value_heads);
  activation_from_name(pc.hidden_act);

  if (c.image_token_id < 0 || c.image_token_id >= c.text.vocab_size)
    fail("{}: {} is outside the text vocabulary of {}", view.where("image_token_id"), c.image_token_id,
         c.text.vocab_size);
  return c;
}

}  // namespace vlm::idefics2
