#include "qwen2_vl_decoder.hpp"

#include "qwen2_vl_rope_index.hpp"
#include "qwen2_vl_vision.hpp"
#include "vlm/nn/rotary.hpp"

namespace vlm::qwen2_vl {

namespace {

int64_t total_merged_tokens(const std::vector<Grid>& grids, int64_t merge) {
  int64_t n = 0;
  for (const auto& g : grids) n += merged_tokens(g, merge);
  return n;
}

}  // namespace

TextDecoder::TextDecoder(const Config& c, const WeightLoader& weights, Backend& backend)
    : TextModelDecoder(backend, TextModel::load(weights, c.text_model()), rope_inverse_frequencies(c.head_dim(), c.rope_theta)),
      config_(c) {}

std::vector<PromptRows> TextDecoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                                 Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = config_.hidden_size;
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));

  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
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
  if (trace && trace->wants("mrope_position_ids")) {
    trace->record("mrope_position_ids", Tensor::from<int64_t>(index.positions, Shape{3, B, S}));
    trace->record("rope_deltas", Tensor::from<int64_t>(index.deltas, Shape{B, 1}));
  }
  Tensor cos = Tensor::zeros(Shape{B * S, config_.head_dim()}, DType::F32);
  Tensor sin = Tensor::zeros(Shape{B * S, config_.head_dim()}, DType::F32);
  rope_tables_mrope(index.positions, B * S, inv_freq_, config_.mrope_section, cos, sin);
  // After the prompt the three position streams advance together from S + delta (HF: cache position +
  // rope_deltas), where equal streams make M-RoPE the plain 1-D rotary.
  std::vector<int64_t> next(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) next[size_t(b)] = S + index.deltas[size_t(b)];
  return split_padded_batch(*backend_, hidden, cos, sin, std::span<const int64_t>(mask.data<int64_t>(), size_t(B * S)),
                            B, next);
}

}  // namespace vlm::qwen2_vl
