#pragma once
// BLIP-2's OPT decoder: the shared TextModel configured as OPT; the projected query outputs replace the
// <image> embeddings; learned positions count real tokens (HF: cumsum(mask) * mask - 1, padding at -1, table
// offset 2), so pads between the image tokens and the text are skipped.
#include "blip2_config.hpp"
#include "vlm/nn/text_session.hpp"

namespace vlm::blip2 {

class OptDecoder final : public TextModelDecoder {
 public:
  OptDecoder(const Config& config, const WeightLoader& weights, Backend& backend);
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  int64_t max_context() const override { return model_.config().max_positions; }

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override;
  int64_t image_token_;
};

}  // namespace vlm::blip2
