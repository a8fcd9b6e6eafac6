#pragma once
// The Qwen2 text decoder with multimodal rotary positions: vision features replace the image / video pad
// embeddings, and every position carries (t, h, w) ids from rope_index.
#include "qwen2_vl_config.hpp"
#include "vlm/nn/text_model.hpp"
#include "vlm/sdk.hpp"

namespace vlm::qwen2_vl {

class TextDecoder final : public Decoder {
 public:
  TextDecoder(const Config& config, const WeightLoader& weights, Backend& backend);

  Conditioning conditioning() const override { return Conditioning::MergedEmbeddings; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_context() const override { return config_.max_position_embeddings; }
  std::unique_ptr<DecoderState> begin(const ModelInputs& inputs, int64_t max_total_len) override;
  Tensor prefill(DecoderState& state, const ModelInputs& inputs, const Tensor* vision, Trace* trace) override;
  Tensor step(DecoderState& state, std::span<const int64_t> tokens, Trace* trace) override;

 private:
  // Rotary tables for `rows` positions given as [3][rows] ids.
  void tables(std::span<const int64_t> positions, int64_t rows, Tensor& cos, Tensor& sin);

  Config config_;
  Backend* backend_;
  Workspace ws_;
  TextModel model_;
  std::vector<float> inv_freq_;
};

}  // namespace vlm::qwen2_vl
