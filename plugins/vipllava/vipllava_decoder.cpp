#include "vipllava_decoder.hpp"

#include "vlm/nn/rotary.hpp"

namespace vlm::vipllava {

namespace {

class State final : public DecoderState {
 public:
  State(Backend& backend, const TextConfig& c, int64_t batch, int64_t capacity)
      : cache(backend, c.num_hidden_layers, batch, capacity, c.num_key_value_heads, c.head_dim) {}
  int64_t batch() const override { return cache.batch(); }
  int64_t length() const override { return cache.length(); }

  KVCache cache;
  std::vector<int64_t> next_positions;  // [batch]: real tokens of the row so far = its next position
  std::vector<int64_t> step_mask;       // [batch] of ones
  Tensor cos, sin;                      // host tables for one step, reused
};

}  // namespace

TextDecoder::TextDecoder(const Config& c, const WeightLoader& weights, Backend& backend)
    : config_(c), backend_(&backend), ws_(backend) {
  const auto& t = c.text;
  TextModelConfig m;
  m.vocab_size = t.vocab_size;
  m.layers = t.num_hidden_layers;
  m.tie_word_embeddings = t.tie_word_embeddings;
  m.prefix = "language_model.model";
  m.lm_head = "language_model.lm_head";
  m.layer.hidden = t.hidden_size;
  m.layer.heads = t.num_attention_heads;
  m.layer.kv_heads = t.num_key_value_heads;
  m.layer.head_dim = t.head_dim;
  m.layer.intermediate = t.intermediate_size;
  m.layer.qkv_bias = m.layer.out_bias = t.attention_bias;
  m.layer.mlp_bias = t.mlp_bias;
  m.layer.activation = activation_from_name(t.hidden_act);
  m.layer.norm_eps = float(t.rms_norm_eps);
  model_ = TextModel::load(weights, m);
  inv_freq_ = rope_inverse_frequencies(t.head_dim, t.rope_theta);
}

void TextDecoder::upload_tables(std::span<const int64_t> positions, int64_t batch, int64_t steps, Tensor& host_cos,
                                Tensor& host_sin, Tensor& cos, Tensor& sin) {
  rope_tables_1d(positions, inv_freq_, host_cos, host_sin);
  const Shape shape{batch, steps, config_.text.head_dim};
  cos = ws_.to_device("vipllava.cos", host_cos).reshape(shape);
  sin = ws_.to_device("vipllava.sin", host_sin).reshape(shape);
}

std::unique_ptr<DecoderState> TextDecoder::begin(const ModelInputs& inputs, int64_t max_total_len) {
  const int64_t B = inputs.at("input_ids").dim(0);
  auto state = std::make_unique<State>(*backend_, config_.text, B, max_total_len);
  state->step_mask.assign(size_t(B), 1);
  state->cos = Tensor::zeros(Shape{B, config_.text.head_dim}, DType::F32);
  state->sin = Tensor::zeros(Shape{B, config_.text.head_dim}, DType::F32);
  return state;
}

Tensor TextDecoder::prefill(DecoderState& base, const ModelInputs& inputs, const Tensor* vision, Trace* trace) {
  auto& state = static_cast<State&>(base);
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = config_.text.hidden_size;
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));

  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws_, id_span, flat);
  merge_features(*backend_, id_span, config_.image_token_index, vision ? *vision : Tensor(), flat, "image");
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);

  // HF: position_ids = cumsum(mask) - 1, padding set to 1 (masked out anyway).
  std::vector<int64_t> positions(size_t(B * S));
  state.next_positions.assign(size_t(B), 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const size_t i = size_t(b * S + s);
      positions[i] = mask_span[i] ? state.next_positions[size_t(b)]++ : 1;
    }
  Tensor host_cos = Tensor::zeros(Shape{B * S, config_.text.head_dim}, DType::F32);
  Tensor host_sin = Tensor::zeros(Shape{B * S, config_.text.head_dim}, DType::F32);
  Tensor cos, sin;
  upload_tables(positions, B, S, host_cos, host_sin, cos, sin);

  state.cache.prepare(mask_span, S);
  model_.forward(ws_, hidden, cos, sin, state.cache);

  return model_.prompt_logits(ws_, hidden, trace);
}

Tensor TextDecoder::step(DecoderState& base, std::span<const int64_t> tokens, Trace*) {
  auto& state = static_cast<State&>(base);
  const int64_t B = state.batch(), H = config_.text.hidden_size;
  if (int64_t(tokens.size()) != B) fail("decode step: {} tokens for a batch of {}", tokens.size(), B);
  Tensor hidden = ws_.get("vipllava.step_hidden", Shape{B, 1, H});
  Tensor flat = hidden.reshape(Shape{B, H});
  model_.embed(ws_, tokens, flat);
  Tensor cos, sin;
  upload_tables(state.next_positions, B, 1, state.cos, state.sin, cos, sin);
  for (auto& position : state.next_positions) ++position;
  state.cache.prepare(state.step_mask, 1);
  model_.forward(ws_, hidden, cos, sin, state.cache);
  Tensor logits = ws_.get("vipllava.logits", Shape{B, config_.text.vocab_size});
  model_.logits(ws_, flat, logits);
  return backend_->download(logits);
}

}  // namespace vlm::vipllava
