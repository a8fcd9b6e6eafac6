#pragma once
// Scoring with an encoder-only family's Scorer (image-text matching, contrastive embeddings, masked LM):
// the host side of `vlm score`, `vlm retrieve` and `vlm fill-mask`, the same for every scoring family.
#include <span>
#include <string>
#include <vector>

#include "vlm/model/family.hpp"

namespace vlm {

// Prepares `prompts` (each an image and a text) with the model's processor, records the processor's
// tensors in `trace`, and runs the scorer's `task`. Error when the model has no scorer or no such task.
TensorMap score_prompts(Model& model, std::span<const Prompt> prompts, std::string_view task, Trace* trace);
// The same for inputs already prepared by the model's processor.
TensorMap score_inputs(Model& model, const ModelInputs& inputs, std::string_view task, Trace* trace);

// Masked LM: for each mask position of each row, the `top_k` most probable tokens (softmax over the
// vocabulary) and the text with every mask replaced by its best token.
struct MaskPrediction {
  int64_t row = 0, position = 0;
  std::vector<int64_t> ids;
  std::vector<float> probabilities;
};
struct FillMaskResult {
  std::vector<MaskPrediction> masks;  // row-major order
  Tensor argmax_ids;  // [B, S] i64: the best token at every position (padding: 0)
  Tensor filled_ids;  // [B, S] i64: input_ids with every mask replaced by its best token
};
// `logits` [B, S, V] and `input_ids` / `attention_mask` [B, S]; `mask_id` the tokenizer's <mask>.
FillMaskResult fill_masks(const Tensor& logits, const Tensor& input_ids, const Tensor& attention_mask, int64_t mask_id,
                          int64_t top_k);

}  // namespace vlm
