#pragma once
// Mllama's decoder: the shared TextModel (Llama 3 with gated cross-attention layers at
// cross_attention_layers) whose sequences carry their image states. Each prompt row gets its text
// embeddings (no merge), 1-D llama3 rotary positions over its real tokens, and a CrossContext: the row's
// cross_attention_states (every image slot and tile of the batch row, padding included, as Hugging Face
// attends them) projected per cross-attention layer, and per position the additive mask from
// cross_attention_mask, rows that see no image left unmasked with their MLP gated off
// (full_text_row_masked_out_mask). Traces prepared_cross_attention_mask and full_text_row_masked_out_mask.
#include "mllama_config.hpp"
#include "vlm/nn/text_session.hpp"

namespace vlm::mllama {

class Decoder final : public TextModelDecoder {
 public:
  Decoder(const Config& config, const WeightLoader& weights, Backend& backend);
  Conditioning conditioning() const override { return Conditioning::CrossAttention; }
  int64_t vocab_size() const override { return config_.text.vocab_size; }
  int64_t max_context() const override { return config_.text.max_position_embeddings; }

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override;
  Config config_;
};

}  // namespace vlm::mllama
