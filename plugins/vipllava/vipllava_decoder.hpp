#pragma once
// The Llama text decoder: projected image features replace the <image> token embeddings, and positions
// count real tokens only (HF generate: position_ids = cumsum(attention_mask) - 1), so a left-padded row
// is positioned as if it had no padding.
#include "vipllava_config.hpp"
#include "vlm/nn/text_session.hpp"
#include "vlm/sdk.hpp"

namespace vlm::vipllava {

class TextDecoder final : public Decoder {
 public:
  TextDecoder(const Config& config, const WeightLoader& weights, Backend& backend);

  Conditioning conditioning() const override { return Conditioning::MergedEmbeddings; }
  int64_t vocab_size() const override { return config_.text.vocab_size; }
  int64_t max_context() const override { return config_.text.max_position_embeddings; }
  std::unique_ptr<DecoderSession> open_session(const SessionOptions& options) const override;

 private:
  // A prepared batch -> each row's prompt embeddings (features merged) and 1-D rotary tables.
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws, Trace* trace) const;

  Config config_;
  Backend* backend_;
  TextModel model_;
  std::vector<float> inv_freq_;
};

}  // namespace vlm::vipllava
