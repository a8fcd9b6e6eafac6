#pragma once
// The Llama text decoder: projected image features replace the <image> token embeddings, and positions
// count real tokens only (HF generate: position_ids = cumsum(attention_mask) - 1), so a left-padded row
// is positioned as if it had no padding.
#include "vipllava_config.hpp"
#include "vlm/nn/text_model.hpp"
#include "vlm/sdk.hpp"

namespace vlm::vipllava {

class TextDecoder final : public Decoder {
 public:
  TextDecoder(const Config& config, const WeightLoader& weights, Backend& backend);

  Conditioning conditioning() const override { return Conditioning::MergedEmbeddings; }
  int64_t vocab_size() const override { return config_.text.vocab_size; }
  int64_t max_context() const override { return config_.text.max_position_embeddings; }
  std::unique_ptr<DecoderState> begin(const ModelInputs& inputs, int64_t max_total_len) override;
  Tensor prefill(DecoderState& state, const ModelInputs& inputs, const Tensor* vision, Trace* trace) override;
  Tensor step(DecoderState& state, std::span<const int64_t> tokens, Trace* trace) override;

 private:
  // Rotary tables on the backend, [B, S, head_dim], for positions [B * S].
  void upload_tables(std::span<const int64_t> positions, int64_t batch, int64_t steps, Tensor& host_cos,
                     Tensor& host_sin, Tensor& cos, Tensor& sin);

  Config config_;
  Backend* backend_;
  Workspace ws_;
  TextModel model_;
  std::vector<float> inv_freq_;
};

}  // namespace vlm::vipllava
