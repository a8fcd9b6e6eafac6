#pragma once
// Qwen2VLProcessor: chat template, then each <|image_pad|> / <|video_pad|> expanded to the number of merged
// patches its image / video produces, tokenized, left-padded.
#include <memory>

#include "qwen2_vl_config.hpp"
#include "qwen2_vl_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm::qwen2_vl {

class Processor final : public vlm::Processor {
 public:
  Processor(const Config& config, const Checkpoint& checkpoint, const Json& overrides);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  std::vector<int64_t> extra_stop_ids() const override;
  const ImageProcessor& image_processor() const { return images_; }

 private:
  Config config_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ImageProcessor images_;
};

}  // namespace vlm::qwen2_vl
