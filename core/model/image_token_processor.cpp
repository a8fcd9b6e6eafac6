#include "vlm/model/image_token_processor.hpp"

namespace vlm {

ImageTokenProcessorConfig ImageTokenProcessorConfig::load(const std::filesystem::path& dir) {
  ImageTokenProcessorConfig c;
  const auto path = dir / "processor_config.json";
  if (!std::filesystem::exists(path)) return c;
  const ConfigView view = ConfigView::load(path);
  c.image_token = view.get_or<std::string>("image_token", c.image_token);
  if (view.has("patch_size")) c.patch_size = view.get<int64_t>("patch_size");
  if (view.has("vision_feature_select_strategy"))
    c.vision_feature_select_strategy = view.get<std::string>("vision_feature_select_strategy");
  c.num_additional_image_tokens = view.get_or("num_additional_image_tokens", c.num_additional_image_tokens);
  if (c.patch_size && *c.patch_size <= 0) fail("{}: must be positive", view.where("patch_size"));
  return c;
}

ImageTokenProcessor::ImageTokenProcessor(const Checkpoint& checkpoint, int64_t tokens_per_image, std::string family)
    : config_(ImageTokenProcessorConfig::load(checkpoint.dir())),
      tokens_per_image_(tokens_per_image),
      family_(std::move(family)),
      tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(ClipImageProcessorConfig::from(checkpoint.preprocessor_config())) {}

int64_t ImageTokenProcessor::image_tokens(int64_t height, int64_t width) const {
  const auto& pc = config_;
  // Without patch_size and strategy 4.47 leaves one <image> per image and the model expands it to the
  // tower's patch count (the legacy path); expanding here to that count gives the same sequence.
  if (!pc.patch_size || !pc.vision_feature_select_strategy) return tokens_per_image_;
  int64_t count = (height / *pc.patch_size) * (width / *pc.patch_size) + pc.num_additional_image_tokens;
  if (*pc.vision_feature_select_strategy == "default") count -= 1;  // the CLS token is not a feature
  return count;
}

ModelInputs ImageTokenProcessor::prepare(std::span<const Prompt> batch) const {
  std::vector<Image> images;
  std::vector<std::string> texts;
  const std::string_view mark = config_.image_token;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Prompt& prompt = batch[i];
    if (!prompt.videos.empty()) fail("{} takes images only, but a prompt has {} video(s)", family_, prompt.videos.size());
    images.insert(images.end(), prompt.images.begin(), prompt.images.end());
    texts.push_back(renderer_.render(prompt));
    check_placeholders(texts.back(), mark, prompt.images.size(), "image", i, batch.size());
  }

  ModelInputs inputs;
  inputs.tensors = images_.preprocess(images, {});
  std::vector<int64_t> counts;
  for (const auto& image : images) {
    const ImageSize size = images_.output_size(image);
    counts.push_back(image_tokens(size.height, size.width));
  }
  size_t next = 0;
  std::vector<std::vector<int64_t>> rows;
  for (auto& text : texts) {
    std::string expanded = expand_placeholders(text, mark, mark, counts, next, "image");
    // LlavaProcessor tokenizes with add_special_tokens=True whether or not the text was templated: BOS.
    rows.push_back(tokenizer_->encode(expanded, true));
    inputs.texts.push_back(std::move(expanded));
  }
  pad_left(rows, padding_id(*tokenizer_), inputs);
  return inputs;
}

std::string ImageTokenProcessor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace vlm
