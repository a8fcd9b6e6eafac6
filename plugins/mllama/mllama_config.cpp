#include "mllama_config.hpp"

#include "vlm/util/error.hpp"

namespace vlm::mllama {

std::vector<std::pair<int64_t, int64_t>> supported_aspect_ratios(int64_t max_tiles) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t a = 1; a <= max_tiles; ++a)
    for (int64_t b = 1; b <= max_tiles; ++b)
      if (a * b <= max_tiles) out.emplace_back(a, b);
  return out;
}

VitBlockConfig VisionConfig::block(bool gated) const {
  VitBlockConfig b;
  b.dim = hidden_size;
  b.heads = attention_heads;
  b.mlp_hidden = intermediate_size;
  b.activation = activation_from_name(hidden_act);
  b.norm_eps = float(norm_eps);
  b.attention_bias = false;
  b.gated = gated;
  return b;
}

TextModelConfig TextConfig::text_model(const std::string& prefix, const std::string& lm_head) const {
  TextModelConfig m;
  m.vocab_size = vocab_size + 8;  // the embeddings hold the image token and 7 more past the text vocabulary
  m.lm_head_vocab = vocab_size;
  m.layers = num_hidden_layers;
  m.cross_layers = cross_attention_layers;
  m.tie_word_embeddings = tie_word_embeddings;
  m.prefix = prefix;
  m.lm_head = lm_head;
  auto& l = m.layer;
  l.hidden = hidden_size;
  l.heads = num_attention_heads;
  l.kv_heads = num_key_value_heads;
  l.head_dim = head_dim();
  l.intermediate = intermediate_size;
  l.activation = activation_from_name(hidden_act);
  l.norm_eps = float(rms_norm_eps);
  return m;
}

TextConfig TextConfig::from(const ConfigView& t) {
  TextConfig tc;
  tc.vocab_size = t.get_or("vocab_size", tc.vocab_size);
  tc.hidden_size = t.get_or("hidden_size", tc.hidden_size);
  tc.intermediate_size = t.get_or("intermediate_size", tc.intermediate_size);
  tc.num_hidden_layers = t.get_or("num_hidden_layers", tc.num_hidden_layers);
  tc.num_attention_heads = t.get_or("num_attention_heads", tc.num_attention_heads);
  tc.num_key_value_heads = t.get_or("num_key_value_heads", tc.num_key_value_heads);
  tc.max_position_embeddings = t.get_or("max_position_embeddings", tc.max_position_embeddings);
  tc.hidden_act = t.get_or<std::string>("hidden_act", tc.hidden_act);
  tc.rms_norm_eps = t.get_or("rms_norm_eps", tc.rms_norm_eps);
  tc.rope_theta = t.get_or("rope_theta", tc.rope_theta);
  tc.tie_word_embeddings = t.get_or("tie_word_embeddings", tc.tie_word_embeddings);
  tc.cross_attention_layers = t.get_or("cross_attention_layers", tc.cross_attention_layers);
  // MllamaRotaryEmbedding reads rope_scaling["rope_type"]: transformers cannot run without it either.
  if (!t.has("rope_scaling")) fail("{}: Mllama needs a rope_scaling entry (rope_type)", t.where("rope_scaling"));
  tc.rope_scaling = RopeScaling::from(t.child("rope_scaling"));
  for (const auto& [key, value] :
       {std::pair{"vocab_size", tc.vocab_size}, {"hidden_size", tc.hidden_size},
        {"intermediate_size", tc.intermediate_size}, {"num_hidden_layers", tc.num_hidden_layers},
        {"num_attention_heads", tc.num_attention_heads}, {"num_key_value_heads", tc.num_key_value_heads},
        {"max_position_embeddings", tc.max_position_embeddings}})
    require_positive(t, key, value);
  if (tc.num_attention_heads % tc.num_key_value_heads || tc.hidden_size % tc.num_attention_heads)
    fail("{}: {} heads must divide hidden_size {} and be a multiple of {} kv heads", t.where("num_attention_heads"),
         tc.num_attention_heads, tc.hidden_size, tc.num_key_value_heads);
  for (const int64_t i : tc.cross_attention_layers)
    if (i < 0 || i >= tc.num_hidden_layers)
      fail("{}: layer {} is outside the {} layers", t.where("cross_attention_layers"), i, tc.num_hidden_layers);
  activation_from_name(tc.hidden_act);
  return tc;
}

Config Config::from(const ConfigView& view) {
  Config c;
  if (view.get_or<std::string>("model_type", "mllama") == "mllama_text_model") {
    c.text_only = true;
    c.text = TextConfig::from(view);
    return c;
  }
  c.image_token_index = view.get_or("image_token_index", c.image_token_index);

  const ConfigView v = view.child("vision_config");
  auto& vc = c.vision;
  vc.hidden_size = v.get_or("hidden_size", vc.hidden_size);
  vc.intermediate_size = v.get_or("intermediate_size", vc.intermediate_size);
  vc.num_hidden_layers = v.get_or("num_hidden_layers", vc.num_hidden_layers);
  vc.num_global_layers = v.get_or("num_global_layers", vc.num_global_layers);
  vc.attention_heads = v.get_any_or<int64_t>({"attention_heads", "num_attention_heads"}, vc.attention_heads);
  vc.num_channels = v.get_or("num_channels", vc.num_channels);
  vc.image_size = v.get_or("image_size", vc.image_size);
  vc.patch_size = v.get_or("patch_size", vc.patch_size);
  vc.max_num_tiles = v.get_or("max_num_tiles", vc.max_num_tiles);
  vc.vision_output_dim = v.get_or("vision_output_dim", vc.vision_output_dim);
  vc.hidden_act = v.get_or<std::string>("hidden_act", vc.hidden_act);
  vc.norm_eps = v.get_or("norm_eps", vc.norm_eps);
  vc.intermediate_layers_indices = v.get_or("intermediate_layers_indices", vc.intermediate_layers_indices);
  for (const auto& [key, value] :
       {std::pair{"hidden_size", vc.hidden_size}, {"intermediate_size", vc.intermediate_size},
        {"num_hidden_layers", vc.num_hidden_layers}, {"attention_heads", vc.attention_heads},
        {"image_size", vc.image_size}, {"patch_size", vc.patch_size}, {"max_num_tiles", vc.max_num_tiles}})
    require_positive(v, key, value);
  if (vc.num_global_layers < 0) fail("{}: must not be negative", v.where("num_global_layers"));
  if (vc.num_channels != 3) fail("{}: only RGB (3) is supported, found {}", v.where("num_channels"), vc.num_channels);
  if (vc.hidden_size % vc.attention_heads)
    fail("{}: hidden_size {} is not a multiple of {} heads", v.where("attention_heads"), vc.hidden_size, vc.attention_heads);
  if (vc.image_size % vc.patch_size)
    fail("{}: {} is not a multiple of patch_size {}", v.where("image_size"), vc.image_size, vc.patch_size);
  for (const int64_t i : vc.intermediate_layers_indices)
    if (i < 0 || i >= vc.num_hidden_layers)
      fail("{}: layer {} is outside the {} local layers", v.where("intermediate_layers_indices"), i, vc.num_hidden_layers);
  if (vc.vision_output_dim != vc.output_dim())
    fail("{}: {} must be hidden_size x (1 + intermediate layers) = {}", v.where("vision_output_dim"),
         vc.vision_output_dim, vc.output_dim());
  if (v.has("supported_aspect_ratios")) {
    for (const auto& pair : v.get<std::vector<std::vector<int64_t>>>("supported_aspect_ratios")) {
      if (pair.size() != 2 || pair[0] <= 0 || pair[1] <= 0 || pair[0] * pair[1] > vc.max_num_tiles)
        fail("{}: each entry must be two positive tile counts of at most max_num_tiles {} tiles",
             v.where("supported_aspect_ratios"), vc.max_num_tiles);
      vc.supported_aspect_ratios.emplace_back(pair[0], pair[1]);
    }
  } else {
    if (vc.max_num_tiles != 4)
      fail("{}: without supported_aspect_ratios, max_num_tiles must be 4 (as MllamaVisionConfig requires)",
           v.where("max_num_tiles"));
    vc.supported_aspect_ratios = supported_aspect_ratios(4);
  }
  activation_from_name(vc.hidden_act);

  c.text = TextConfig::from(view.child("text_config"));
  const auto& tc = c.text;
  if (c.image_token_index < 0 || c.image_token_index >= tc.vocab_size + 8)
    fail("{}: {} is outside the {} embeddings", view.where("image_token_index"), c.image_token_index, tc.vocab_size + 8);
  return c;
}

}  // namespace vlm::mllama
