#include "blip2_processor.hpp"

#include <filesystem>

#include "vlm/util/error.hpp"

namespace vlm::blip2 {

namespace {

ClipImageProcessorConfig blip_defaults() {
  ClipImageProcessorConfig c;  // BlipImageProcessor: 384x384 exactly, bicubic, no crop, OpenAI CLIP mean/std
  c.shortest_edge.reset();
  c.resize_height = c.resize_width = 384;
  c.do_center_crop = false;
  return c;
}

int64_t query_tokens(const std::filesystem::path& dir, int64_t fallback) {
  const auto path = dir / "processor_config.json";
  if (!std::filesystem::exists(path)) return fallback;
  const ConfigView view = ConfigView::load(path);
  return positive_or(view, "num_query_tokens", fallback);
}

}  // namespace

Processor::Processor(const Checkpoint& checkpoint, const Config& config)
    : query_tokens_(query_tokens(checkpoint.dir(), config.num_query_tokens)),
      image_token_(config.image_token_index),
      tokenizer_(Tokenizer::load(checkpoint.dir())),
      renderer_(checkpoint.dir()),
      images_(ClipImageProcessorConfig::from(checkpoint.preprocessor_config(), blip_defaults())) {
  if (query_tokens_ != config.num_query_tokens)
    fail("{}: processor_config.json's num_query_tokens {} differs from config.json's {}", checkpoint.dir().string(),
         query_tokens_, config.num_query_tokens);
  if (images_.config().do_center_crop || images_.config().shortest_edge)
    fail("{}: BLIP-2 resizes to a square size {{height, width}} without cropping", checkpoint.dir().string());
}

ModelInputs Processor::prepare(std::span<const Prompt> batch) const {
  ModelInputs inputs;
  const ImageTextBatch rows = one_image_per_prompt(batch, renderer_, *tokenizer_, "BLIP-2", inputs);
  pad_left(rows.ids, padding_id(*tokenizer_), inputs);
  // The query slots go in front of the padded text (Hugging Face adds them after padding).
  for (const char* name : {"input_ids", "attention_mask"}) {
    const Tensor& text = inputs.at(name);
    const int64_t B = text.dim(0), S = text.dim(1), width = query_tokens_ + S;
    Tensor full = Tensor::zeros(Shape{B, width}, DType::I64);
    const int64_t fill = std::string_view(name) == "input_ids" ? image_token_ : 1;
    for (int64_t b = 0; b < B; ++b) {
      int64_t* out = full.data<int64_t>() + b * width;
      std::fill_n(out, query_tokens_, fill);
      std::copy_n(text.data<int64_t>() + b * S, S, out + query_tokens_);
    }
    inputs.tensors.insert_or_assign(name, std::move(full));
  }
  for (auto& [name, t] : images_.preprocess(rows.images, {})) inputs.tensors.insert_or_assign(name, std::move(t));
  return inputs;
}

std::string Processor::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace vlm::blip2
