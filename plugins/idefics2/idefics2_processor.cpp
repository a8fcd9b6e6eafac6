#include "idefics2_processor.hpp"

#include <filesystem>

#include "vlm/util/error.hpp"

namespace vlm::idefics2 {

namespace {

constexpr std::string_view kImage = "<image>";
constexpr std::string_view kFake = "<fake_token_around_image>";

// Python's str.replace: every non-overlapping occurrence, left to right.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  for (size_t at; (at = text.find(from, start)) != std::string_view::npos; start = at + from.size()) {
    out.append(text.substr(start, at - start));
    out.append(to);
  }
  out.append(text.substr(start));
  return out;
}

int64_t image_seq_len(const std::filesystem::path& dir) {
  const auto path = dir / "processor_config.json";
  if (!std::filesystem::exists(path)) return 64;  // Idefics2Processor's default
  const ConfigView view = ConfigView::load(path);
  return positive_or(view, "image_seq_len", 64);
}

ImageProcessorConfig image_config(const ConfigView& preprocessor, const Json& overrides) {
  ImageProcessorConfig c = ImageProcessorConfig::from(preprocessor);
  if (overrides.is_null() || overrides.empty()) return c;
  if (!overrides.is_object()) fail("image processor overrides must be a JSON object, got {}", overrides.dump());
  for (const auto& [key, value] : overrides.items()) {
    if (key != "do_image_splitting")
      fail("image processor overrides: unknown key '{}' (Idefics2 accepts do_image_splitting)", key);
    if (!value.is_boolean()) fail("image processor overrides: do_image_splitting must be true or false");
    c.do_image_splitting = value.get<bool>();
  }
  return c;
}

}  // namespace

Processor::Processor(const Checkpoint& checkpoint, const Json& overrides)
    : image_seq_len_(image_seq_len(checkpoint.dir())),
      tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(image_config(checkpoint.preprocessor_config(), overrides)) {}

std::string Processor::expand(std::string_view text) const {
  std::string one(kFake);
  for (int64_t i = 0; i < image_seq_len_; ++i) one += kImage;
  one += kFake;
  std::string image;
  for (int64_t i = 0; i < images_.images_per_image(); ++i) image += one;
  const std::string doubled = std::string(kFake) + std::string(kFake);
  return replace_all(replace_all(text, kImage, image), doubled, kFake);
}

ModelInputs Processor::prepare(std::span<const Prompt> batch) const {
  std::vector<std::vector<Image>> images;
  std::vector<std::string> texts;
  bool any_image = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Prompt& prompt = batch[i];
    if (!prompt.videos.empty()) fail("Idefics2 takes images only, but a prompt has {} video(s)", prompt.videos.size());
    texts.push_back(renderer_.render(prompt));
    check_placeholders(texts.back(), kImage, prompt.images.size(), "image", i, batch.size());
    images.push_back(prompt.images);
    any_image = any_image || !prompt.images.empty();
  }
  ModelInputs inputs;
  if (any_image) inputs.tensors = images_.preprocess(images);
  std::vector<std::vector<int64_t>> rows;
  for (auto& text : texts) {
    std::string expanded = expand(text);
    // Idefics2Processor tokenizes with add_special_tokens=True, templated or not: BOS.
    rows.push_back(tokenizer_->encode(expanded, true));
    inputs.texts.push_back(std::move(expanded));
  }
  pad_left(rows, padding_id(*tokenizer_), inputs);
  return inputs;
}

std::string Processor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace vlm::idefics2
