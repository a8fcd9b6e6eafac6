#include "blip2_config.hpp"

#include "vlm/util/error.hpp"

namespace vlm::blip2 {

VitBlockConfig VisionConfig::block() const {
  VitBlockConfig b;
  b.dim = hidden_size;
  b.heads = num_attention_heads;
  b.mlp_hidden = intermediate_size;
  b.activation = activation_from_name(hidden_act);
  b.norm_eps = float(layer_norm_eps);
  b.fused_qkv = true;
  return b;
}

EncoderStackConfig QFormerConfig::stack() const {
  EncoderStackConfig s;
  s.layers = num_hidden_layers;
  s.layer.hidden = hidden_size;
  s.layer.heads = num_attention_heads;
  s.layer.intermediate = intermediate_size;
  s.layer.activation = activation_from_name(hidden_act);
  s.layer.norm_eps = float(layer_norm_eps);
  s.layer.cross_width = encoder_hidden_size;
  s.cross_every = cross_attention_frequency;
  return s;
}

OptConfig OptConfig::from(const ConfigView& t) {
  OptConfig c;
  c.vocab_size = t.get_or("vocab_size", c.vocab_size);
  c.hidden_size = t.get_or("hidden_size", c.hidden_size);
  c.num_hidden_layers = t.get_or("num_hidden_layers", c.num_hidden_layers);
  c.ffn_dim = t.get_or("ffn_dim", c.ffn_dim);
  c.num_attention_heads = t.get_or("num_attention_heads", c.num_attention_heads);
  c.max_position_embeddings = t.get_or("max_position_embeddings", c.max_position_embeddings);
  c.activation_function = t.get_or<std::string>("activation_function", c.activation_function);
  c.enable_bias = t.get_or("enable_bias", c.enable_bias);
  c.tie_word_embeddings = t.get_or("tie_word_embeddings", c.tie_word_embeddings);
  for (const auto& [key, value] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                                   {"num_hidden_layers", c.num_hidden_layers}, {"ffn_dim", c.ffn_dim},
                                   {"num_attention_heads", c.num_attention_heads},
                                   {"max_position_embeddings", c.max_position_embeddings}})
    require_positive(t, key, value);
  if (c.hidden_size % c.num_attention_heads)
    fail("{}: hidden_size {} is not a multiple of {} heads", t.where("num_attention_heads"), c.hidden_size,
         c.num_attention_heads);
  // OPT-350m's post-norm layers and embedding projections are not used by any BLIP-2 checkpoint.
  if (!t.get_or("do_layer_norm_before", true))
    fail("{}: OPT with do_layer_norm_before false (post-norm) is not supported", t.where("do_layer_norm_before"));
  if (t.get_or("word_embed_proj_dim", c.hidden_size) != c.hidden_size)
    fail("{}: OPT with projected embeddings (word_embed_proj_dim != hidden_size) is not supported",
         t.where("word_embed_proj_dim"));
  if (!t.get_or("layer_norm_elementwise_affine", true))
    fail("{}: OPT without affine LayerNorms is not supported", t.where("layer_norm_elementwise_affine"));
  activation_from_name(c.activation_function);
  return c;
}

TextModelConfig OptConfig::text_model() const {
  TextModelConfig m;
  m.vocab_size = vocab_size;
  m.layers = num_hidden_layers;
  m.tie_word_embeddings = tie_word_embeddings;
  m.prefix = "language_model.model.decoder";
  m.lm_head = "language_model.lm_head";
  m.final_norm = "final_layer_norm";
  m.positions = "embed_positions";
  m.position_offset = 2;  // OPTLearnedPositionalEmbedding
  m.max_positions = max_position_embeddings;
  auto& l = m.layer;
  l.hidden = hidden_size;
  l.heads = l.kv_heads = num_attention_heads;
  l.head_dim = hidden_size / num_attention_heads;
  l.intermediate = ffn_dim;
  l.qkv_bias = l.out_bias = l.mlp_bias = enable_bias;
  l.activation = activation_from_name(activation_function);
  l.norm_eps = 1e-5f;
  l.layer_norm = true;
  l.gated_mlp = false;
  l.rotary = false;
  auto& n = m.names;
  n.input_norm = "self_attn_layer_norm";
  n.post_norm = "final_layer_norm";
  n.o = "self_attn.out_proj";
  n.fc1 = "fc1";
  n.fc2 = "fc2";
  return m;
}

Config Config::from(const ConfigView& view) {
  Config c;
  c.num_query_tokens = view.get_or("num_query_tokens", c.num_query_tokens);
  require_positive(view, "num_query_tokens", c.num_query_tokens);
  if (!view.has("image_token_index"))
    fail("{}: missing; checkpoints without it use BLIP-2's legacy processing (query outputs concatenated in front of "
         "the prompt), which is not supported",
         view.where("image_token_index"));
  c.image_token_index = view.get<int64_t>("image_token_index");

  const ConfigView v = view.child("vision_config");
  auto& vc = c.vision;
  vc.hidden_size = v.get_or("hidden_size", vc.hidden_size);
  vc.intermediate_size = v.get_or("intermediate_size", vc.intermediate_size);
  vc.num_hidden_layers = v.get_or("num_hidden_layers", vc.num_hidden_layers);
  vc.num_attention_heads = v.get_or("num_attention_heads", vc.num_attention_heads);
  vc.image_size = v.get_or("image_size", vc.image_size);
  vc.patch_size = v.get_or("patch_size", vc.patch_size);
  vc.hidden_act = v.get_or<std::string>("hidden_act", vc.hidden_act);
  vc.layer_norm_eps = v.get_or("layer_norm_eps", vc.layer_norm_eps);
  vc.qkv_bias = v.get_or("qkv_bias", vc.qkv_bias);
  for (const auto& [key, value] : {std::pair{"hidden_size", vc.hidden_size}, {"intermediate_size", vc.intermediate_size},
                                   {"num_hidden_layers", vc.num_hidden_layers},
                                   {"num_attention_heads", vc.num_attention_heads}, {"image_size", vc.image_size},
                                   {"patch_size", vc.patch_size}})
    require_positive(v, key, value);
  if (vc.hidden_size % vc.num_attention_heads || vc.image_size % vc.patch_size)
    fail("{}: hidden_size {} must split into {} heads and image_size {} into {}px patches", v.where("hidden_size"),
         vc.hidden_size, vc.num_attention_heads, vc.image_size, vc.patch_size);
  if (!vc.qkv_bias) fail("{}: a BLIP-2 vision tower without qkv biases is not supported", v.where("qkv_bias"));
  activation_from_name(vc.hidden_act);

  const ConfigView q = view.child("qformer_config");
  auto& qc = c.qformer;
  qc.hidden_size = q.get_or("hidden_size", qc.hidden_size);
  qc.num_hidden_layers = q.get_or("num_hidden_layers", qc.num_hidden_layers);
  qc.num_attention_heads = q.get_or("num_attention_heads", qc.num_attention_heads);
  qc.intermediate_size = q.get_or("intermediate_size", qc.intermediate_size);
  qc.hidden_act = q.get_or<std::string>("hidden_act", qc.hidden_act);
  qc.layer_norm_eps = q.get_or("layer_norm_eps", qc.layer_norm_eps);
  qc.cross_attention_frequency = q.get_or("cross_attention_frequency", qc.cross_attention_frequency);
  qc.encoder_hidden_size = vc.hidden_size;  // Blip2Config overwrites it with the vision width
  for (const auto& [key, value] : {std::pair{"hidden_size", qc.hidden_size}, {"num_hidden_layers", qc.num_hidden_layers},
                                   {"num_attention_heads", qc.num_attention_heads},
                                   {"intermediate_size", qc.intermediate_size},
                                   {"cross_attention_frequency", qc.cross_attention_frequency}})
    require_positive(q, key, value);
  if (qc.hidden_size % qc.num_attention_heads)
    fail("{}: hidden_size {} is not a multiple of {} heads", q.where("num_attention_heads"), qc.hidden_size,
         qc.num_attention_heads);
  if (q.get_or("use_qformer_text_input", false))
    fail("{}: a Q-Former with text input (InstructBLIP-style) is not supported", q.where("use_qformer_text_input"));
  activation_from_name(qc.hidden_act);

  // Blip2Config: no text_config builds OPTConfig.
  const ConfigView t = view.child("text_config");
  const std::string type = t.get_or<std::string>("model_type", "opt");
  if (type == "t5") {
    c.encoder_decoder = true;
    c.t5 = T5Config::from(t);
  } else if (type == "opt") {
    c.opt = OptConfig::from(t);
  } else {
    fail("{}: BLIP-2 with a '{}' language model is not supported (opt, t5)", t.where("model_type"), type);
  }
  if (c.image_token_index < 0 || c.image_token_index >= c.text_vocab())
    fail("{}: {} is outside the text vocabulary of {}", view.where("image_token_index"), c.image_token_index,
         c.text_vocab());
  return c;
}

}  // namespace vlm::blip2
