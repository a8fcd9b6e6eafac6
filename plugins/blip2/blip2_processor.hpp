#pragma once
// Blip2Processor (transformers v4.47.1, new-style processing): BlipImageProcessor (resize to the square
// size, rescale, normalise, no crop: the shared CLIP image processor with BLIP's defaults); each text tokenized
// with the tokenizer's special tokens (OPT's BOS </s>, T5's trailing </s>), left-padded, and only then
// num_query_tokens <image> ids prepended, so the pads sit between the image tokens and the text. One image
// per prompt; the text may be empty (captioning). No chat template: the prompt text is used as is.
#include <memory>

#include "blip2_config.hpp"
#include "vlm/image/clip_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm::blip2 {

class Processor final : public vlm::Processor {
 public:
  Processor(const Checkpoint& checkpoint, const Config& config);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  const ClipImageProcessor& image_processor() const { return images_; }

 private:
  int64_t query_tokens_, image_token_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ClipImageProcessor images_;
};

}  // namespace vlm::blip2
