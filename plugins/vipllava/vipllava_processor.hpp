#pragma once
// LlavaProcessor (what VipLlava checkpoints use, transformers v4.47.1): chat template, each <image>
// expanded to the number of features one image produces, tokenized with the tokenizer's special tokens
// (BOS), left-padded with the pad token.
#include <memory>

#include "vipllava_config.hpp"
#include "vipllava_image_processor.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/processing.hpp"

namespace vlm::vipllava {

// processor_config.json keys LlavaProcessor takes (its __init__ defaults when absent).
struct ProcessorConfig {
  std::string image_token = "<image>";
  std::optional<int64_t> patch_size;
  std::optional<std::string> vision_feature_select_strategy;
  int64_t num_additional_image_tokens = 0;
  static ProcessorConfig load(const std::filesystem::path& checkpoint_dir);
};

class Processor final : public vlm::Processor {
 public:
  Processor(const Config& config, const Checkpoint& checkpoint);
  ModelInputs prepare(std::span<const Prompt> batch) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  const ImageProcessor& image_processor() const { return images_; }
  // <image> copies for one image of this processed size.
  int64_t image_tokens(int64_t height, int64_t width) const;

 private:
  Config config_;
  ProcessorConfig processor_config_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  PromptRenderer renderer_;
  ImageProcessor images_;
};

}  // namespace vlm::vipllava
