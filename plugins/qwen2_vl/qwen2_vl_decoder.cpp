#include "qwen2_vl_decoder.hpp"

#include "qwen2_vl_rope_index.hpp"
#include "qwen2_vl_vision.hpp"
#include "vlm/nn/rotary.hpp"

namespace vlm::qwen2_vl {

namespace {

class State final : public DecoderState {
 public:
  State(Backend& backend, const Config& c, int64_t batch, int64_t capacity)
      : cache(backend, c.num_hidden_layers, batch, capacity, c.num_key_value_heads, c.head_dim()) {}
  int64_t batch() const override { return cache.batch(); }
  int64_t length() const override { return cache.length(); }

  KVCache cache;
  std::vector<int64_t> rope_deltas;
  std::vector<int64_t> step_positions;  // [3][batch], reused every step
  std::vector<int64_t> step_mask;       // [batch] of ones
  Tensor cos, sin;                      // host tables for one step, reused
};

int64_t total_merged_tokens(const std::vector<Grid>& grids, int64_t merge) {
  int64_t n = 0;
  for (const auto& g : grids) n += merged_tokens(g, merge);
  return n;
}

}  // namespace

TextDecoder::TextDecoder(const Config& c, const WeightLoader& weights, Backend& backend)
    : config_(c), backend_(&backend), ws_(backend) {
  TextModelConfig t;
  t.vocab_size = c.vocab_size;
  t.layers = c.num_hidden_layers;
  t.tie_word_embeddings = c.tie_word_embeddings;
  t.layer.hidden = c.hidden_size;
  t.layer.heads = c.num_attention_heads;
  t.layer.kv_heads = c.num_key_value_heads;
  t.layer.head_dim = c.head_dim();
  t.layer.intermediate = c.intermediate_size;
  t.layer.qkv_bias = true;
  t.layer.activation = activation_from_name(c.hidden_act);
  t.layer.norm_eps = float(c.rms_norm_eps);
  model_ = TextModel::load(weights, t);
  inv_freq_ = rope_inverse_frequencies(c.head_dim(), c.rope_theta);
}

void TextDecoder::tables(std::span<const int64_t> positions, int64_t rows, Tensor& cos, Tensor& sin) {
  rope_tables_mrope(positions, rows, inv_freq_, config_.mrope_section, cos, sin);
}

std::unique_ptr<DecoderState> TextDecoder::begin(const ModelInputs& inputs, int64_t max_total_len) {
  const Tensor& ids = inputs.at("input_ids");
  auto state = std::make_unique<State>(*backend_, config_, ids.dim(0), max_total_len);
  state->step_positions.resize(size_t(3 * ids.dim(0)));
  state->step_mask.assign(size_t(ids.dim(0)), 1);
  state->cos = Tensor::zeros(Shape{ids.dim(0), config_.head_dim()}, DType::F32);
  state->sin = Tensor::zeros(Shape{ids.dim(0), config_.head_dim()}, DType::F32);
  return state;
}

Tensor TextDecoder::prefill(DecoderState& base, const ModelInputs& inputs, const Tensor* vision, Trace* trace) {
  auto& state = static_cast<State&>(base);
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = config_.hidden_size;
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));

  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws_, id_span, flat);
  const auto image_grids = read_grids(inputs.tensors, "image_grid_thw");
  const auto video_grids = read_grids(inputs.tensors, "video_grid_thw");
  const int64_t merge = config_.vision.spatial_merge_size;
  const int64_t image_rows = total_merged_tokens(image_grids, merge);
  const int64_t video_rows = total_merged_tokens(video_grids, merge);
  if (vision && vision->dim(0) != image_rows + video_rows)
    fail("vision features have {} rows, but the grids describe {} image and {} video tokens", vision->dim(0),
         image_rows, video_rows);
  // Features are images first, then videos (the order the vision tower encoded them).
  const Tensor none;
  merge_features(*backend_, id_span, config_.image_token_id, vision && image_rows ? vision->rows(0, image_rows) : none,
                 flat, "image");
  merge_features(*backend_, id_span, config_.video_token_id,
                 vision && video_rows ? vision->rows(image_rows, video_rows) : none, flat, "video");
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);

  const RopeIndex index = rope_index(config_, ids.data<int64_t>(), mask.data<int64_t>(), B, S, image_grids, video_grids);
  state.rope_deltas = index.deltas;
  if (trace && trace->wants("mrope_position_ids")) {
    trace->record("mrope_position_ids", Tensor::from<int64_t>(index.positions, Shape{3, B, S}));
    trace->record("rope_deltas", Tensor::from<int64_t>(index.deltas, Shape{B, 1}));
  }
  Tensor cos = Tensor::zeros(Shape{B * S, config_.head_dim()}, DType::F32);
  Tensor sin = Tensor::zeros(Shape{B * S, config_.head_dim()}, DType::F32);
  tables(index.positions, B * S, cos, sin);
  const Tensor dcos = ws_.to_device("qwen2_vl.cos", cos).reshape(Shape{B, S, config_.head_dim()});
  const Tensor dsin = ws_.to_device("qwen2_vl.sin", sin).reshape(Shape{B, S, config_.head_dim()});

  state.cache.prepare(std::span<const int64_t>(mask.data<int64_t>(), size_t(B * S)), S);
  model_.forward(ws_, hidden, dcos, dsin, state.cache);

  return model_.prompt_logits(ws_, hidden, trace);
}

Tensor TextDecoder::step(DecoderState& base, std::span<const int64_t> tokens, Trace*) {
  auto& state = static_cast<State&>(base);
  const int64_t B = state.batch(), H = config_.hidden_size;
  if (int64_t(tokens.size()) != B) fail("decode step: {} tokens for a batch of {}", tokens.size(), B);
  Tensor hidden = ws_.get("qwen2_vl.step_hidden", Shape{B, 1, H});
  Tensor flat = hidden.reshape(Shape{B, H});
  model_.embed(ws_, tokens, flat);
  // After the prompt every stream advances together: position = cache length + the row's delta.
  for (int64_t b = 0; b < B; ++b)
    for (int s = 0; s < 3; ++s) state.step_positions[size_t(s * B + b)] = state.cache.length() + state.rope_deltas[size_t(b)];
  tables(state.step_positions, B, state.cos, state.sin);
  const Tensor dcos = ws_.to_device("qwen2_vl.cos", state.cos).reshape(Shape{B, 1, config_.head_dim()});
  const Tensor dsin = ws_.to_device("qwen2_vl.sin", state.sin).reshape(Shape{B, 1, config_.head_dim()});
  state.cache.prepare(state.step_mask, 1);
  model_.forward(ws_, hidden, dcos, dsin, state.cache);
  Tensor logits = ws_.get("qwen2_vl.logits", Shape{B, config_.vocab_size});
  model_.logits(ws_, flat, logits);
  return backend_->download(logits);
}

}  // namespace vlm::qwen2_vl
