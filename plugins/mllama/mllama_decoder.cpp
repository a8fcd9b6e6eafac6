#include "mllama_decoder.hpp"

#include <cstring>
#include <limits>

#include "vlm/nn/rotary.hpp"

namespace vlm::mllama {

Decoder::Decoder(const Config& config, const WeightLoader& weights, Backend& backend)
    : TextModelDecoder(backend, TextModel::load(weights, config.text_model()),
                       rope_inverse_frequencies(config.text.head_dim(), config.text.rope_theta, config.text.rope_scaling)),
      config_(config) {}

std::vector<PromptRows> Decoder::prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                             Trace* trace) const {
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  const int64_t B = ids.dim(0), S = ids.dim(1), H = model_.hidden_size(), D = model_.head_dim();
  const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
  const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));
  Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
  Tensor flat = hidden.reshape(Shape{B * S, H});
  model_.embed(ws, id_span, flat);
  if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);
  const MaskPositions p = positions_from_mask(mask_span, B, 1);  // HF's masked_fill(mask == 0, 1)
  Tensor cos = Tensor::zeros(Shape{B * S, D}, DType::F32), sin = Tensor::zeros(Shape{B * S, D}, DType::F32);
  rope_tables_1d(p.positions, inv_freq_, cos, sin);
  auto rows = split_padded_batch(*backend_, hidden, cos, sin, mask_span, B, p.next);
  if (!vision || !vision->defined()) {
    if (inputs.find("cross_attention_mask")) fail("mllama: a cross_attention_mask was given without image states");
    return rows;  // text only: the cross-attention layers are skipped
  }

  // cross_attention_mask [B, S, images, tiles] -> per position, over the row's images x tiles x patches.
  const Tensor cam = inputs.at("cross_attention_mask").to(DType::I64);
  if (cam.rank() != 4 || cam.dim(0) != B || cam.dim(1) != S)
    fail("cross_attention_mask {} does not match input_ids {}", cam.shape().str(), ids.shape().str());
  const int64_t M = cam.dim(2), T = cam.dim(3), P = config_.vision.patches(), K = M * T * P;
  if (vision->rank() != 2 || vision->dim(0) != B * K || vision->dim(1) != H)
    fail("mllama: {} image states do not match {} rows of {} images x {} tiles x {} patches", vision->shape().str(), B,
         M, T, P);
  constexpr float kMin = std::numeric_limits<float>::lowest();
  const bool traced = trace && (trace->wants("prepared_cross_attention_mask") || trace->wants("full_text_row_masked_out_mask"));
  Tensor prepared = traced ? Tensor::zeros(Shape{B, 1, S, K}, DType::F32) : Tensor();
  Tensor row_mask = traced ? Tensor::zeros(Shape{B, 1, S, 1}, DType::F32) : Tensor();
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t b = 0; b < B; ++b) {
    auto cross = std::make_shared<CrossContext>();
    cross->layers = model_.project_cross(ws, vision->rows(b * K, K));
    cross->mask = Tensor::zeros(Shape{p.next[size_t(b)], K}, DType::F32);
    int64_t real = 0;
    for (int64_t s = 0; s < S; ++s) {
      bool any = false;
      const int64_t* allowed = cam.data<int64_t>() + (b * S + s) * M * T;
      for (int64_t k = 0; k < M * T; ++k) {
        const float value = allowed[k] ? 0.0f : kMin;
        any = any || allowed[k];
        std::fill_n(row.data() + k * P, P, value);
      }
      // A row that sees no image is not masked at all; only its MLP branch is gated off.
      if (!any) std::fill(row.begin(), row.end(), 0.0f);
      if (traced) {
        std::memcpy(prepared.data<float>() + (b * S + s) * K, row.data(), size_t(K) * sizeof(float));
        row_mask.data<float>()[b * S + s] = any ? 1.0f : 0.0f;
      }
      if (!mask_span[size_t(b * S + s)]) continue;
      std::memcpy(cross->mask.data<float>() + real * K, row.data(), size_t(K) * sizeof(float));
      cross->row_gate.push_back(any ? 1.0f : 0.0f);
      ++real;
    }
    rows[size_t(b)].cross = std::move(cross);
  }
  if (traced) {
    trace->record("prepared_cross_attention_mask", prepared);
    trace->record("full_text_row_masked_out_mask", row_mask);
  }
  return rows;
}

}  // namespace vlm::mllama
