#pragma once
// BridgeTowerProcessor (transformers v4.47.1): each prompt is one image and one text; the text is tokenized
// by the RoBERTa tokenizer with its special tokens (<s> ... </s>, <mask> absorbing the space before it)
// and right-padded with <pad>; the image goes through the BridgeTower image processor. No chat template:
// the text is used as is.
#include <memory>

#include "bridgetower_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"
#include "vlm/text/tokenizer.hpp"

namespace vlm::bridgetower {

class Processor final : public vlm::Processor {
 public:
  explicit Processor(const Checkpoint& checkpoint);
  // input_ids, attention_mask [B, S] (right-padded), pixel_values, pixel_mask.
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  // Texts alone (retrieval encodes them apart from the images): input_ids, attention_mask, right-padded.
  ModelInputs prepare_texts(std::span<const std::string> texts) const;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  int64_t mask_token_id() const override { return mask_id_; }
  const ImageProcessor& image_processor() const { return images_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ImageProcessor images_;
  int64_t mask_id_ = -1;
};

}  // namespace vlm::bridgetower
