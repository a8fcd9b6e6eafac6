#include "vlm/nn/llama.hpp"

#include "vlm/nn/rotary.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

// `kv_heads_default_to_heads`: LlamaConfig's num_key_value_heads=None means num_attention_heads; MistralConfig's
// default is a number of its own.
LlamaConfig parse(const ConfigView& t, LlamaConfig c, bool kv_heads_default_to_heads);

}  // namespace

LlamaConfig LlamaConfig::from(const ConfigView& t) {
  if (t.has("model_type") && t.get<std::string>("model_type") != "llama")
    fail("{}: only a llama text model is supported, found '{}'", t.where("model_type"),
         t.get<std::string>("model_type"));
  return parse(t, LlamaConfig{}, true);
}

LlamaConfig LlamaConfig::from_mistral(const ConfigView& t) {
  if (t.has("model_type") && t.get<std::string>("model_type") != "mistral")
    fail("{}: a mistral text model is expected, found '{}'", t.where("model_type"), t.get<std::string>("model_type"));
  LlamaConfig d;  // MistralConfig (v4.47) defaults
  d.intermediate_size = 14336;
  d.num_key_value_heads = 8;
  d.max_position_embeddings = 4096 * 32;
  d.sliding_window = 4096;
  LlamaConfig c = parse(t, d, false);
  // sliding_window may be null (no window).
  const bool present = t.json().is_object() && t.json().contains("sliding_window");
  c.sliding_window = t.has("sliding_window") ? t.get<int64_t>("sliding_window") : present ? 0 : d.sliding_window;
  if (c.sliding_window < 0) fail("{}: must not be negative, found {}", t.where("sliding_window"), c.sliding_window);
  return c;
}

namespace {

LlamaConfig parse(const ConfigView& t, LlamaConfig c, bool kv_heads_default_to_heads) {
  c.vocab_size = t.get_or("vocab_size", c.vocab_size);
  c.hidden_size = t.get_or("hidden_size", c.hidden_size);
  c.intermediate_size = t.get_or("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = t.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = t.get_or("num_attention_heads", c.num_attention_heads);
  // num_key_value_heads and head_dim default from the (possibly given) head count and width.
  c.num_key_value_heads =
      t.get_or("num_key_value_heads", kv_heads_default_to_heads ? c.num_attention_heads : c.num_key_value_heads);
  require_positive(t, "num_attention_heads", c.num_attention_heads);
  c.head_dim = t.get_or("head_dim", c.hidden_size / c.num_attention_heads);
  c.hidden_act = t.get_or<std::string>("hidden_act", c.hidden_act);
  c.max_position_embeddings = t.get_or("max_position_embeddings", c.max_position_embeddings);
  c.rms_norm_eps = t.get_or("rms_norm_eps", c.rms_norm_eps);
  c.rope_theta = t.get_or("rope_theta", c.rope_theta);
  c.attention_bias = t.get_or("attention_bias", c.attention_bias);
  c.mlp_bias = t.get_or("mlp_bias", c.mlp_bias);
  c.tie_word_embeddings = t.get_or("tie_word_embeddings", c.tie_word_embeddings);
  c.rope_scaling = RopeScaling::from(t.child("rope_scaling"));
  for (const auto& [key, value] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                                   {"intermediate_size", c.intermediate_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim},
                                   {"max_position_embeddings", c.max_position_embeddings}})
    require_positive(t, key, value);
  if (c.num_attention_heads % c.num_key_value_heads)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", t.where("num_key_value_heads"),
         c.num_attention_heads, c.num_key_value_heads);
  activation_from_name(c.hidden_act);
  return c;
}

}  // namespace

TextModelConfig LlamaConfig::text_model(const std::string& prefix, const std::string& lm_head) const {
  TextModelConfig m;
  m.vocab_size = vocab_size;
  m.layers = num_hidden_layers;
  m.tie_word_embeddings = tie_word_embeddings;
  m.prefix = prefix;
  m.lm_head = lm_head;
  m.layer.hidden = hidden_size;
  m.layer.heads = num_attention_heads;
  m.layer.kv_heads = num_key_value_heads;
  m.layer.head_dim = head_dim;
  m.layer.intermediate = intermediate_size;
  m.layer.qkv_bias = m.layer.out_bias = attention_bias;
  m.layer.mlp_bias = mlp_bias;
  m.layer.activation = activation_from_name(hidden_act);
  m.layer.norm_eps = float(rms_norm_eps);
  m.layer.sliding_window = sliding_window;
  return m;
}

PlaceholderDecoder::PlaceholderDecoder(const LlamaConfig& config, const TextModelConfig& model, int64_t placeholder,
                                       const WeightLoader& weights, Backend& backend)
    : TextModelDecoder(backend, TextModel::load(weights, model), rope_inverse_frequencies(config.head_dim, config.rope_theta, config.rope_scaling)),
      config_(config),
      placeholder_(placeholder) {}

std::vector<PromptRows> PlaceholderDecoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                                        Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = config_.hidden_size;
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));

  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
  merge_features(*backend_, id_span, placeholder_, vision ? *vision : Tensor(), flat, "image");
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);

  // Positions 0..n-1 over the real tokens; generation continues at n.
  const MaskPositions p = positions_from_mask(mask_span, B, 0);
  Tensor cos = Tensor::zeros(Shape{B * S, config_.head_dim}, DType::F32);
  Tensor sin = Tensor::zeros(Shape{B * S, config_.head_dim}, DType::F32);
  rope_tables_1d(p.positions, inv_freq_, cos, sin);
  return split_padded_batch(*backend_, hidden, cos, sin, mask_span, B, p.next);
}

}  // namespace vlm
