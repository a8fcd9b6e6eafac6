#pragma once
// Idefics2Processor (transformers v4.47.1): the chat template; each <image> becomes
// <fake_token_around_image> + <image> x image_seq_len + <fake_token_around_image> (five times when the image
// processor splits images), with doubled fake tokens collapsed into one; tokenized with the tokenizer's
// special tokens (BOS); left-padded.
#include <memory>

#include "idefics2_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm::idefics2 {

class Processor final : public vlm::Processor {
 public:
  // `overrides`: image processor settings that replace the checkpoint's ({"do_image_splitting": bool}).
  Processor(const Checkpoint& checkpoint, const Json& overrides);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  const ImageProcessor& image_processor() const { return images_; }
  // The prompt text with each <image> expanded as Idefics2Processor lays it out.
  std::string expand(std::string_view text) const;

 private:
  int64_t image_seq_len_ = 64;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ImageProcessor images_;
};

}  // namespace vlm::idefics2
