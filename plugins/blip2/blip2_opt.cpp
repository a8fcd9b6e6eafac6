#include "blip2_opt.hpp"

namespace vlm::blip2 {

OptDecoder::OptDecoder(const Config& config, const WeightLoader& weights, Backend& backend)
    : TextModelDecoder(backend, TextModel::load(weights, config.opt.text_model()), {}),
      image_token_(config.image_token_index) {}

std::vector<PromptRows> OptDecoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                                Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = model_.hidden_size();
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));
  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
  merge_features(*backend_, id_span, image_token_, vision ? *vision : Tensor(), flat, "image");
  const MaskPositions p = positions_from_mask(mask_span, B, -1);  // OPT: padding at -1
  model_.add_positions(ws, p.positions, flat);
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);
  const Tensor no_rotary = Tensor::zeros(Shape{B * S, 0}, DType::F32);
  return split_padded_batch(*backend_, hidden, no_rotary, no_rotary, mask_span, B, p.next);
}

}  // namespace vlm::blip2
