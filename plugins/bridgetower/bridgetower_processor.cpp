#include "bridgetower_processor.hpp"

#include <filesystem>

#include "vlm/util/error.hpp"

namespace vlm::bridgetower {

Processor::Processor(const Checkpoint& checkpoint)
    : tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(ImageProcessorConfig::from(checkpoint.preprocessor_config())) {
  // tokenizer_config.json's mask_token, a string or an AddedToken object (RoBERTa's default: <mask>).
  std::string mask = "<mask>";
  const auto path = checkpoint.dir() / "tokenizer_config.json";
  if (std::filesystem::exists(path)) {
    const ConfigView config = ConfigView::load(path);
    const auto& value = config.json();
    if (value.contains("mask_token") && value["mask_token"].is_string()) mask = value["mask_token"].get<std::string>();
    if (value.contains("mask_token") && value["mask_token"].is_object() && value["mask_token"].contains("content") &&
        value["mask_token"]["content"].is_string())
      mask = value["mask_token"]["content"].get<std::string>();
  }
  if (const auto id = tokenizer_->token_to_id(mask)) mask_id_ = *id;
}

ModelInputs Processor::prepare(std::span<const Prompt> batch) const {
  ModelInputs inputs;
  const ImageTextBatch rows = one_image_per_prompt(batch, renderer_, *tokenizer_, "BridgeTower", inputs);
  pad_right(rows.ids, padding_id(*tokenizer_), inputs);
  for (auto& [name, t] : images_.preprocess(rows.images, {})) inputs.tensors.insert_or_assign(name, std::move(t));
  return inputs;
}

ModelInputs Processor::prepare_texts(std::span<const std::string> texts) const {
  ModelInputs inputs;
  std::vector<std::vector<int64_t>> ids;
  for (const auto& text : texts) {
    ids.push_back(tokenizer_->encode(text, true));  // as prepare() does with a raw prompt
    inputs.texts.push_back(text);
  }
  pad_right(ids, padding_id(*tokenizer_), inputs);
  return inputs;
}

std::string Processor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace vlm::bridgetower
