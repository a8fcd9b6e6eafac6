#pragma once
// MllamaProcessor (transformers v4.47.1): the chat template; one <|image|> token per image (no expansion);
// BOS as the processor places it (after the leading image tokens, unless the text already holds it) and
// never twice — templated text carries its BOS, so nothing is added at tokenization (Hugging Face's default
// call would prepend a second one; the fixtures and Meta's usage pass add_special_tokens=False); left padding;
// and cross_attention_mask [B, S, images, max_tiles] i64: a token sees the image (group) whose token is the
// latest at or before it, over that image's real tiles.
#include <memory>

#include "mllama_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm::mllama {

// get_cross_attention_token_mask: per image, the [first, end) range of token positions that see it (end -1:
// to the end of the row).
std::vector<std::pair<int64_t, int64_t>> image_token_ranges(std::span<const int64_t> ids, int64_t image_token);

class Processor final : public vlm::Processor {
 public:
  // image_token -1: a text-only checkpoint (images are refused).
  Processor(const Checkpoint& checkpoint, int64_t image_token);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  const ImageProcessor& image_processor() const { return images_; }

 private:
  int64_t image_token_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ImageProcessor images_;
};

}  // namespace vlm::mllama
