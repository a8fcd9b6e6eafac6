#pragma once
// The Qwen2 text decoder with multimodal rotary positions: vision features replace the image / video pad
// embeddings, and every position carries (t, h, w) ids from rope_index.
#include "qwen2_vl_config.hpp"
#include "vlm/nn/text_session.hpp"
#include "vlm/sdk.hpp"

namespace vlm::qwen2_vl {

class TextDecoder final : public TextModelDecoder {
 public:
  TextDecoder(const Config& config, const WeightLoader& weights, Backend& backend);
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_context() const override { return config_.max_position_embeddings; }

 private:
  // A prepared batch -> each row's prompt embeddings (features merged) and M-RoPE tables.
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override;

  Config config_;
};

}  // namespace vlm::qwen2_vl
