#pragma once
// transformers' LlavaProcessor (v4.47.1), which LLaVA-style checkpoints (llava, vipllava) use: the chat
// template, each image placeholder expanded to the number of features one image produces, tokenized
// with the tokenizer's special tokens (BOS), left-padded with the pad token; CLIP image processing.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vlm/image/clip_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm {

// processor_config.json keys LlavaProcessor takes (its __init__ defaults when absent).
struct ImageTokenProcessorConfig {
  std::string image_token = "<image>";
  std::optional<int64_t> patch_size;
  std::optional<std::string> vision_feature_select_strategy;
  int64_t num_additional_image_tokens = 0;
  static ImageTokenProcessorConfig load(const std::filesystem::path& checkpoint_dir);
};

class ImageTokenProcessor final : public Processor {
 public:
  // `tokens_per_image`: the features one image gives when processor_config.json does not say how to count
  // them (4.47's legacy path, where the model expands a single placeholder to the tower's patch count).
  // `family` names the model in errors.
  ImageTokenProcessor(const Checkpoint& checkpoint, int64_t tokens_per_image, std::string family);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  const ClipImageProcessor& image_processor() const { return images_; }
  // Placeholder copies for one image of this processed size.
  int64_t image_tokens(int64_t height, int64_t width) const;

 private:
  ImageTokenProcessorConfig config_;
  int64_t tokens_per_image_;
  std::string family_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ClipImageProcessor images_;
};

}  // namespace vlm
