#include "vlm/nn/t5.hpp"

#include <cmath>

#include "vlm/util/error.hpp"

namespace vlm {

T5Config T5Config::from(const ConfigView& t) {
  T5Config c;
  if (t.has("model_type") && t.get<std::string>("model_type") != "t5")
    fail("{}: only a t5 text model is supported here, found '{}'", t.where("model_type"), t.get<std::string>("model_type"));
  c.vocab_size = t.get_or("vocab_size", c.vocab_size);
  c.d_model = t.get_or("d_model", c.d_model);
  c.d_kv = t.get_or("d_kv", c.d_kv);
  c.d_ff = t.get_or("d_ff", c.d_ff);
  c.num_layers = t.get_or("num_layers", c.num_layers);
  c.num_decoder_layers = t.get_or("num_decoder_layers", c.num_layers);
  c.num_heads = t.get_or("num_heads", c.num_heads);
  c.relative_attention_num_buckets = t.get_or("relative_attention_num_buckets", c.relative_attention_num_buckets);
  c.relative_attention_max_distance = t.get_or("relative_attention_max_distance", c.relative_attention_max_distance);
  c.layer_norm_epsilon = t.get_or("layer_norm_epsilon", c.layer_norm_epsilon);
  c.feed_forward_proj = t.get_or<std::string>("feed_forward_proj", c.feed_forward_proj);
  c.tie_word_embeddings = t.get_or("tie_word_embeddings", c.tie_word_embeddings);
  c.decoder_start_token_id = t.get_or("decoder_start_token_id", c.decoder_start_token_id);
  for (const auto& [key, value] :
       {std::pair{"vocab_size", c.vocab_size}, {"d_model", c.d_model}, {"d_kv", c.d_kv}, {"d_ff", c.d_ff},
        {"num_layers", c.num_layers}, {"num_decoder_layers", c.num_decoder_layers}, {"num_heads", c.num_heads},
        {"relative_attention_num_buckets", c.relative_attention_num_buckets},
        {"relative_attention_max_distance", c.relative_attention_max_distance}})
    if (value <= 0) fail("{}: must be positive, found {}", t.where(key), value);
  if (c.relative_attention_num_buckets < 4)
    fail("{}: needs at least 4 buckets, found {}", t.where("relative_attention_num_buckets"),
         c.relative_attention_num_buckets);
  if (c.decoder_start_token_id < 0 || c.decoder_start_token_id >= c.vocab_size)
    fail("{}: {} is outside the vocabulary of {}", t.where("decoder_start_token_id"), c.decoder_start_token_id,
         c.vocab_size);
  // HF: "gated-<act>" or "<act>", nothing else.
  const std::string& f = c.feed_forward_proj;
  const auto dash = f.find('-');
  if (dash != std::string::npos && (f.substr(0, dash) != "gated" || f.find('-', dash + 1) != std::string::npos))
    fail("{}: '{}' is not a valid activation ('<act>' or 'gated-<act>')", t.where("feed_forward_proj"), f);
  try {
    c.activation();
  } catch (const Error& e) {
    fail("{}: {}", t.where("feed_forward_proj"), e.what());
  }
  return c;
}

bool T5Config::gated() const { return feed_forward_proj.rfind("gated-", 0) == 0; }

Activation T5Config::activation() const {
  const std::string act = gated() ? feed_forward_proj.substr(6) : feed_forward_proj;
  return activation_from_name(act == "gelu" && gated() ? "gelu_new" : act);  // HF's special case
}

EncoderLayerNames T5Config::encoder_names() const {
  EncoderLayerNames n;
  n.q = "layer.0.SelfAttention.q";
  n.k = "layer.0.SelfAttention.k";
  n.v = "layer.0.SelfAttention.v";
  n.attn_out = "layer.0.SelfAttention.o";
  n.attn_norm = "layer.0.layer_norm";
  n.fc1 = gated() ? "layer.1.DenseReluDense.wi_0" : "layer.1.DenseReluDense.wi";
  n.up = "layer.1.DenseReluDense.wi_1";
  n.fc2 = "layer.1.DenseReluDense.wo";
  n.mlp_norm = "layer.1.layer_norm";
  return n;
}

EncoderStackConfig T5Config::encoder(const std::string& prefix) const {
  EncoderStackConfig s;
  s.layers = num_layers;
  auto& l = s.layer;
  l.hidden = d_model;
  l.heads = num_heads;
  l.head_dim = d_kv;
  l.intermediate = d_ff;
  l.activation = activation();
  l.norm_eps = float(layer_norm_epsilon);
  l.pre_norm = l.rms_norm = true;
  l.bias = false;
  l.gated_mlp = gated();
  l.attention_scale = 1.0f;
  s.relative_bias = prefix + ".encoder.block.0.layer.0.SelfAttention.relative_attention_bias";
  s.relative = {relative_attention_num_buckets, relative_attention_max_distance, true};
  s.final_norm = prefix + ".encoder.final_layer_norm";
  return s;
}

TextModelConfig T5Config::decoder(const std::string& prefix) const {
  TextModelConfig m;
  m.vocab_size = vocab_size;
  m.layers = num_decoder_layers;
  m.tie_word_embeddings = tie_word_embeddings;
  m.prefix = prefix + ".decoder";
  m.layers_name = "block";
  m.embed_table = prefix + ".shared";
  m.final_norm = "final_layer_norm";
  m.lm_head = prefix + ".lm_head";
  m.relative_bias = "block.0.layer.0.SelfAttention.relative_attention_bias";
  m.relative = {relative_attention_num_buckets, relative_attention_max_distance, false};
  if (tie_word_embeddings) m.lm_head_input_scale = float(1.0 / std::sqrt(double(d_model)));  // HF rescales tied outputs
  auto& l = m.layer;
  l.hidden = d_model;
  l.heads = l.kv_heads = num_heads;
  l.head_dim = d_kv;
  l.intermediate = d_ff;
  l.activation = activation();
  l.norm_eps = float(layer_norm_epsilon);
  l.gated_mlp = gated();
  l.rotary = false;
  l.attention_scale = 1.0f;
  l.cross_attention = true;
  auto& n = m.names;
  n.input_norm = "layer.0.layer_norm";
  n.q = "layer.0.SelfAttention.q";
  n.k = "layer.0.SelfAttention.k";
  n.v = "layer.0.SelfAttention.v";
  n.o = "layer.0.SelfAttention.o";
  n.cross_norm = "layer.1.layer_norm";
  n.cross_q = "layer.1.EncDecAttention.q";
  n.cross_k = "layer.1.EncDecAttention.k";
  n.cross_v = "layer.1.EncDecAttention.v";
  n.cross_o = "layer.1.EncDecAttention.o";
  n.post_norm = "layer.2.layer_norm";
  n.gate = "layer.2.DenseReluDense.wi_0";
  n.up = "layer.2.DenseReluDense.wi_1";
  n.down = "layer.2.DenseReluDense.wo";
  n.fc1 = "layer.2.DenseReluDense.wi";
  n.fc2 = "layer.2.DenseReluDense.wo";
  return m;
}

T5PlaceholderDecoder::T5PlaceholderDecoder(const T5Config& config, const std::string& prefix, int64_t placeholder,
                                           const WeightLoader& weights, Backend& backend)
    : TextModelDecoder(backend, TextModel::load(weights, config.decoder(prefix)), {}),
      config_(config),
      encoder_(EncoderStack::load(weights.language_model(), prefix + ".encoder.block", config.encoder(prefix),
                                  config.encoder_names())),
      placeholder_(placeholder) {}

void T5PlaceholderDecoder::declare(std::vector<TensorSpec>& specs, const T5Config& config, const std::string& prefix) {
  EncoderStack::declare(specs, prefix + ".encoder.block", config.encoder(prefix), config.encoder_names());
  TextModel::declare(specs, config.decoder(prefix));
}

void T5PlaceholderDecoder::add_ops(std::vector<Op>& ops, const T5Config& config, const std::string& prefix) {
  EncoderStack::add_ops(ops, config.encoder(prefix));
  TextModel::add_ops(ops, config.decoder(prefix));
}

std::vector<PromptRows> T5PlaceholderDecoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision,
                                                          Workspace& ws, Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = model_.hidden_size();
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  Tensor embeds = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = embeds.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
  merge_features(*backend_, id_span, placeholder_, vision ? *vision : Tensor(), flat, "image");
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", embeds);
  return encoder_decoder_prompts(ws, encoder_, model_, flat, std::span<const int64_t>(mask.data<int64_t>(), size_t(B * S)),
                                 B, config_.decoder_start_token_id, trace);
}

}  // namespace vlm
