#include "qwen2_vl_processor.hpp"

#include "qwen2_vl_grids.hpp"

namespace vlm::qwen2_vl {

namespace {
constexpr std::string_view kImagePad = "<|image_pad|>";
constexpr std::string_view kVideoPad = "<|video_pad|>";

std::vector<int64_t> tokens_per_grid(const TensorMap& pixels, std::string_view grid_name, int64_t merge) {
  std::vector<int64_t> counts;
  for (const auto& g : read_grids(pixels, grid_name)) counts.push_back(merged_tokens(g, merge));
  return counts;
}
}  // namespace

Processor::Processor(const Config& config, const Checkpoint& checkpoint, const Json& overrides)
    : config_(config),
      tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(ImageProcessorConfig::from(checkpoint.preprocessor_config(), overrides)) {}

ModelInputs Processor::prepare(std::span<const Prompt> batch) const {
  // Images and videos of the whole batch are processed together, in prompt order, as HF's processor does.
  std::vector<Image> images;
  std::vector<Video> videos;
  std::vector<std::string> texts;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Prompt& prompt = batch[i];
    images.insert(images.end(), prompt.images.begin(), prompt.images.end());
    videos.insert(videos.end(), prompt.videos.begin(), prompt.videos.end());
    texts.push_back(renderer_.render(prompt));
    check_placeholders(texts.back(), kImagePad, prompt.images.size(), "image", i, batch.size());
    check_placeholders(texts.back(), kVideoPad, prompt.videos.size(), "video", i, batch.size());
  }

  ModelInputs inputs;
  if (!images.empty() || !videos.empty()) inputs.tensors = images_.preprocess(images, videos);
  const int64_t merge = images_.config().merge_size;
  const auto image_counts = tokens_per_grid(inputs.tensors, "image_grid_thw", merge);
  const auto video_counts = tokens_per_grid(inputs.tensors, "video_grid_thw", merge);

  size_t next_image = 0, next_video = 0;
  std::vector<std::vector<int64_t>> rows;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string text = expand_placeholders(texts[i], kImagePad, kImagePad, image_counts, next_image, "image");
    text = expand_placeholders(text, kVideoPad, kVideoPad, video_counts, next_video, "video");
    // A templated prompt already holds its special tokens; a raw one gets the tokenizer's (none for Qwen2).
    rows.push_back(tokenizer_->encode(text, batch[i].messages.empty()));
    inputs.texts.push_back(std::move(text));
  }
  pad_left(rows, padding_id(*tokenizer_), inputs);
  return inputs;
}

std::string Processor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

std::vector<int64_t> Processor::extra_stop_ids() const {
  if (auto id = tokenizer_->token_to_id("<|im_end|>")) return {*id};
  return {};
}

}  // namespace vlm::qwen2_vl
