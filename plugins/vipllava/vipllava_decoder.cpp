#include "vipllava_decoder.hpp"

#include "vlm/nn/rotary.hpp"

namespace vlm::vipllava {

TextDecoder::TextDecoder(const Config& c, const WeightLoader& weights, Backend& backend)
    : config_(c), backend_(&backend) {
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

std::unique_ptr<DecoderSession> TextDecoder::open_session(const SessionOptions& options) const {
  return std::make_unique<TextModelSession>(
      model_, *backend_, options, max_context(), inv_freq_,
      [this](const ModelInputs& inputs, const Tensor* vision, Workspace& ws, Trace* trace) {
        return prompt_rows(inputs, vision, ws, trace);
      });
}

std::vector<PromptRows> TextDecoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                                 Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = config_.text.hidden_size;
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));

  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
  merge_features(*backend_, id_span, config_.image_token_index, vision ? *vision : Tensor(), flat, "image");
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);

  // HF: position_ids = cumsum(mask) - 1 (padding is dropped), so generation continues at the row's count.
  std::vector<int64_t> positions(size_t(B * S), 0), next(size_t(B), 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      if (mask_span[size_t(b * S + s)]) positions[size_t(b * S + s)] = next[size_t(b)]++;
  Tensor cos = Tensor::zeros(Shape{B * S, config_.text.head_dim}, DType::F32);
  Tensor sin = Tensor::zeros(Shape{B * S, config_.text.head_dim}, DType::F32);
  rope_tables_1d(positions, inv_freq_, cos, sin);
  return split_padded_batch(*backend_, hidden, cos, sin, mask_span, B, next);
}

}  // namespace vlm::vipllava
