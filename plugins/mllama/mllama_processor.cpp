#include "mllama_processor.hpp"

#include "vlm/util/error.hpp"

namespace vlm::mllama {

namespace {

constexpr std::string_view kImage = "<|image|>";

// build_string_from_input: unless the BOS text appears in the prompt, BOS goes after the leading image tokens.
std::string with_bos(std::string_view text, const std::string& bos) {
  if (bos.empty() || text.find(bos) != std::string_view::npos) return std::string(text);
  size_t images = 0;
  while (text.substr(images * kImage.size()).starts_with(kImage)) ++images;
  std::string out;
  for (size_t i = 0; i < images; ++i) out += kImage;
  return out + bos + std::string(text.substr(images * kImage.size()));
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> image_token_ranges(std::span<const int64_t> ids, int64_t image_token) {
  std::vector<int64_t> at;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == image_token) at.push_back(int64_t(i));
  std::vector<std::pair<int64_t, int64_t>> ranges;
  if (at.empty()) return ranges;
  if (at.size() == 1) return {{at[0], -1}};
  for (size_t k = 0; k + 1 < at.size(); ++k) ranges.emplace_back(at[k], at[k + 1]);
  ranges.emplace_back(at.back(), int64_t(ids.size()));
  // Adjacent image tokens form a group: each member sees as far as the group's last member does.
  int64_t last_end = ranges.back().second;
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
    if (it->first == it->second - 1) it->second = last_end;
    last_end = it->second;
  }
  return ranges;
}

Processor::Processor(const Checkpoint& checkpoint, int64_t image_token)
    : image_token_(image_token),
      tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(ImageProcessorConfig::from(checkpoint.preprocessor_config())) {
  if (image_token < 0) return;
  const auto id = tokenizer_->token_to_id(kImage);
  if (!id || *id != image_token)
    fail("{}: the tokenizer's {} is {}, but config.json's image_token_index is {}", checkpoint.dir().string(), kImage,
         id ? std::to_string(*id) : std::string("missing"), image_token);
}

ModelInputs Processor::prepare(std::span<const Prompt> batch) const {
  std::vector<std::vector<Image>> images;
  std::vector<std::string> texts;
  size_t with_images = 0;
  const std::string bos = tokenizer_->bos_token() ? tokenizer_->bos_token()->content : std::string();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Prompt& prompt = batch[i];
    if (!prompt.videos.empty()) fail("Mllama takes images only, but a prompt has {} video(s)", prompt.videos.size());
    if (image_token_ < 0 && !prompt.images.empty())
      fail("this Mllama checkpoint is the text model alone (MllamaForCausalLM): it takes no images");
    texts.push_back(with_bos(renderer_.render(prompt), bos));
    check_placeholders(texts.back(), kImage, prompt.images.size(), "image", i, batch.size());
    images.push_back(prompt.images);
    with_images += !prompt.images.empty();
  }
  if (with_images != 0 && with_images != batch.size())
    fail("Mllama needs images in every prompt of a batch or in none ({} of {} have images)", with_images, batch.size());

  ModelInputs inputs;
  if (with_images) inputs.tensors = images_.preprocess(images);
  std::vector<std::vector<int64_t>> rows;
  for (auto& text : texts) {
    rows.push_back(tokenizer_->encode(text, false));
    inputs.texts.push_back(std::move(text));
  }
  pad_left(rows, padding_id(*tokenizer_), inputs);

  if (with_images) {
    const Tensor& ids = inputs.at("input_ids");
    const Tensor& tiles = inputs.at("num_tiles");
    const int64_t B = ids.dim(0), S = ids.dim(1), M = tiles.dim(1), T = images_.config().max_image_tiles;
    Tensor mask = Tensor::zeros(Shape{B, S, M, T}, DType::I64);
    for (int64_t b = 0; b < B; ++b) {
      const auto ranges = image_token_ranges(std::span(ids.data<int64_t>() + b * S, size_t(S)), image_token_);
      for (size_t m = 0; m < ranges.size(); ++m) {
        const int64_t first = ranges[m].first;
        const int64_t end = ranges[m].second == -1 ? S : std::min(ranges[m].second, S);
        const int64_t count = tiles.data<int64_t>()[b * M + int64_t(m)];
        for (int64_t s = first; s < end; ++s)
          std::fill_n(mask.data<int64_t>() + ((b * S + s) * M + int64_t(m)) * T, count, int64_t(1));
      }
    }
    inputs.tensors.emplace("cross_attention_mask", std::move(mask));
  }
  return inputs;
}

std::string Processor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace vlm::mllama
