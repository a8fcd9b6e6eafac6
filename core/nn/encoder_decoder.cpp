#include "vlm/nn/encoder_decoder.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

std::vector<PromptRows> encoder_decoder_prompts(Workspace& ws, const EncoderStack& encoder, const TextModel& decoder,
                                                const Tensor& embeds, std::span<const int64_t> mask, int64_t batch,
                                                int64_t start_token, Trace* trace) {
  Backend& be = ws.backend();
  const int64_t S = int64_t(mask.size()) / batch, H = decoder.hidden_size();
  if (embeds.rank() != 2 || embeds.dim(0) != batch * S || embeds.dim(1) != H)
    fail("encoder-decoder: the encoder input must be [{}, {}], got {}", batch * S, H, embeds.shape().str());
  const bool traced = trace && trace->wants("encoder_last_hidden_state");
  Tensor padded = traced ? be.zeros(Shape{batch, S, H}, DType::F32) : Tensor();
  std::vector<PromptRows> rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> positions;
    for (int64_t s = 0; s < S; ++s)
      if (mask[size_t(b * S + s)]) positions.push_back(s);
    const int64_t n = int64_t(positions.size());
    if (n == 0) fail("encoder-decoder: row {} of the batch has no tokens", b);
    Tensor states = be.empty(Shape{n, H}, DType::F32);
    for (int64_t i = 0; i < n; ++i) {
      Tensor dst = states.rows(i, 1);
      be.copy(embeds.rows(b * S + positions[size_t(i)], 1), dst);
    }
    encoder.forward(ws, states, {}, nullptr, {}, positions);
    if (traced) {
      const Tensor flat = padded.reshape(Shape{batch * S, H});
      for (int64_t i = 0; i < n; ++i) {
        Tensor dst = flat.rows(b * S + positions[size_t(i)], 1);
        be.copy(states.rows(i, 1), dst);
      }
    }
    auto cross = std::make_shared<CrossContext>();
    cross->layers = decoder.project_cross(ws, states);
    cross->mask = Tensor::zeros(Shape{1, n}, DType::F32);  // padding is already dropped: every state is attended
    cross->row_gate = {1.0f};
    PromptRows& p = rows[size_t(b)];
    p.embeds = be.empty(Shape{1, H}, DType::F32);
    decoder.embed(ws, std::span<const int64_t>(&start_token, 1), p.embeds);
    p.next_position = 1;
    p.cross = std::move(cross);
  }
  if (traced) trace->record("encoder_last_hidden_state", padded);
  return rows;
}

}  // namespace vlm
