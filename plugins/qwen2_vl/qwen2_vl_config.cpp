#include "qwen2_vl_config.hpp"

namespace vlm::qwen2_vl {

Config Config::from(const ConfigView& view) {
  Config c;
  c.vocab_size = view.get_or("vocab_size", c.vocab_size);
  c.hidden_size = view.get_or("hidden_size", c.hidden_size);
  c.intermediate_size = view.get_or("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = view.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = view.get_or("num_attention_heads", c.num_attention_heads);
  // HF: an explicit num_key_value_heads=null means multi-head attention; absent means the default.
  const bool kv_null = view.json().contains("num_key_value_heads") && view.json()["num_key_value_heads"].is_null();
  c.num_key_value_heads = kv_null ? c.num_attention_heads : view.get_or("num_key_value_heads", c.num_key_value_heads);
  c.hidden_act = view.get_or<std::string>("hidden_act", c.hidden_act);
  c.max_position_embeddings = view.get_or("max_position_embeddings", c.max_position_embeddings);
  c.rms_norm_eps = view.get_or("rms_norm_eps", c.rms_norm_eps);
  c.tie_word_embeddings = view.get_or("tie_word_embeddings", c.tie_word_embeddings);
  c.rope_theta = view.get_or("rope_theta", c.rope_theta);
  c.use_sliding_window = view.get_or("use_sliding_window", c.use_sliding_window);
  c.sliding_window = view.get_or("sliding_window", c.sliding_window);
  c.vision_start_token_id = view.get_or("vision_start_token_id", c.vision_start_token_id);
  c.vision_end_token_id = view.get_or("vision_end_token_id", c.vision_end_token_id);
  c.vision_token_id = view.get_or("vision_token_id", c.vision_token_id);
  c.image_token_id = view.get_or("image_token_id", c.image_token_id);
  c.video_token_id = view.get_or("video_token_id", c.video_token_id);

  // Hub checkpoints say rope_scaling.type "mrope"; 4.47's save_pretrained rewrites it to "default".
  const ConfigView rope = view.child("rope_scaling");
  if (rope.has("mrope_section")) {
    const auto section = rope.get<std::vector<int64_t>>("mrope_section");
    if (section.size() != 3) fail("{}: expected 3 sections, found {}", rope.where("mrope_section"), section.size());
    c.mrope_section = {section[0], section[1], section[2]};
  }
  const std::string rope_type = rope.get_any_or<std::string>({"type", "rope_type"}, "mrope");
  if (rope_type != "mrope" && rope_type != "default")
    fail("{}: rope type '{}' is not supported (expected mrope)", rope.where("type"), rope_type);

  const ConfigView v = view.child("vision_config");
  c.vision.depth = v.get_or("depth", c.vision.depth);
  c.vision.embed_dim = v.get_or("embed_dim", c.vision.embed_dim);
  c.vision.hidden_size = v.get_or("hidden_size", c.vision.hidden_size);
  c.vision.hidden_act = v.get_or<std::string>("hidden_act", c.vision.hidden_act);
  c.vision.mlp_ratio = v.get_or("mlp_ratio", c.vision.mlp_ratio);
  c.vision.num_heads = v.get_or("num_heads", c.vision.num_heads);
  c.vision.in_channels = v.get_or("in_channels", c.vision.in_channels);
  c.vision.patch_size = v.get_or("patch_size", c.vision.patch_size);
  c.vision.spatial_merge_size = v.get_or("spatial_merge_size", c.vision.spatial_merge_size);
  c.vision.temporal_patch_size = v.get_or("temporal_patch_size", c.vision.temporal_patch_size);

  auto positive = [&](const ConfigView& where, const char* key, int64_t value) {
    if (value <= 0) fail("{}: must be positive, found {}", where.where(key), value);
  };
  positive(view, "hidden_size", c.hidden_size);
  positive(view, "num_attention_heads", c.num_attention_heads);
  positive(view, "num_key_value_heads", c.num_key_value_heads);
  positive(view, "num_hidden_layers", c.num_hidden_layers);
  positive(view, "vocab_size", c.vocab_size);
  positive(v, "embed_dim", c.vision.embed_dim);
  positive(v, "num_heads", c.vision.num_heads);
  if (c.hidden_size % c.num_attention_heads)
    fail("{}: {} is not divisible by num_attention_heads {}", view.where("hidden_size"), c.hidden_size,
         c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", view.where("num_key_value_heads"),
         c.num_attention_heads, c.num_key_value_heads);
  if (c.vision.embed_dim % c.vision.num_heads)
    fail("{}: embed_dim {} is not divisible by num_heads {}", v.where("embed_dim"), c.vision.embed_dim,
         c.vision.num_heads);
  const int64_t half = c.head_dim() / 2;
  if (c.mrope_section[0] + c.mrope_section[1] + c.mrope_section[2] != half)
    fail("{}: mrope_section sums to {}, but head_dim/2 is {}", rope.where("mrope_section"),
         c.mrope_section[0] + c.mrope_section[1] + c.mrope_section[2], half);
  return c;
}

VitBlockConfig VisionConfig::block() const {
  VitBlockConfig block;
  block.dim = embed_dim;
  block.heads = num_heads;
  block.mlp_hidden = mlp_hidden();
  block.activation = activation_from_name(hidden_act);
  block.norm_eps = 1e-6f;
  block.fused_qkv = true;
  return block;
}

VitBlockNames VisionConfig::block_names() {
  VitBlockNames names;
  names.norm1 = "norm1";
  names.norm2 = "norm2";
  names.qkv = "attn.qkv";
  names.out = "attn.proj";
  return names;
}

TextModelConfig Config::text_model() const {
  TextModelConfig t;
  t.vocab_size = vocab_size;
  t.layers = num_hidden_layers;
  t.tie_word_embeddings = tie_word_embeddings;
  t.layer.hidden = hidden_size;
  t.layer.heads = num_attention_heads;
  t.layer.kv_heads = num_key_value_heads;
  t.layer.head_dim = head_dim();
  t.layer.intermediate = intermediate_size;
  t.layer.qkv_bias = true;
  t.layer.activation = activation_from_name(hidden_act);
  t.layer.norm_eps = float(rms_norm_eps);
  return t;
}

}  // namespace vlm::qwen2_vl
