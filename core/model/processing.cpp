#include "vlm/model/processing.hpp"

#include <fstream>

#include "vlm/util/error.hpp"

namespace vlm {

PromptRenderer::PromptRenderer(const std::filesystem::path& dir) : checkpoint_(dir.string()) {
  if (auto source = find_chat_template(dir))
    template_ = std::make_shared<const ChatTemplate>(ChatTemplate::parse(source->source, source->origin));
  const auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    std::ifstream in(config_path, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    check_json_depth(text, config_path.string());
    try {
      tokenizer_config_ = OrderedJson::parse(text);
    } catch (const OrderedJson::exception& e) {
      fail("{}: invalid JSON: {}", config_path.string(), e.what());
    }
  }
}

std::string PromptRenderer::render(const Prompt& prompt) const {
  if (prompt.messages.is_null() || prompt.messages.empty()) return prompt.raw;
  if (!template_)
    fail("{}: the checkpoint has no chat template (chat_template.jinja / .json or tokenizer_config.json); pass a "
         "raw prompt instead",
         checkpoint_);
  ChatTemplateOptions options;
  options.add_generation_prompt = prompt.add_generation_prompt;
  options.extra = prompt.template_kwargs;
  return template_->render(chat_template_context(prompt.messages, tokenizer_config_, options));
}

size_t count_occurrences(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

void check_placeholders(std::string_view text, std::string_view placeholder, size_t given, std::string_view what,
                        size_t index, size_t batch_size) {
  const size_t marks = count_occurrences(text, placeholder);
  if (marks == given) return;
  const std::string who = batch_size == 1 ? std::string("the prompt") : fmt::format("prompt {}", index);
  fail("{} has {} {} placeholder(s) ({}) but {} {}(s) were given", who, marks, what, placeholder, given, what);
}

int64_t padding_id(const Tokenizer& tokenizer) {
  return tokenizer.pad_id().value_or(tokenizer.eos_id().value_or(0));
}

std::string expand_placeholders(std::string_view text, std::string_view placeholder, std::string_view replacement,
                                std::span<const int64_t> counts, size_t& next, std::string_view what) {
  std::string out;
  size_t from = 0;
  for (size_t at = text.find(placeholder); at != std::string_view::npos; at = text.find(placeholder, from)) {
    if (next >= counts.size())
      fail("the prompt has more {} placeholders than {}s given ({})", what, what, counts.size());
    out.append(text.substr(from, at - from));
    for (int64_t i = 0; i < counts[next]; ++i) out.append(replacement);
    ++next;
    from = at + placeholder.size();
  }
  out.append(text.substr(from));
  return out;
}

namespace {

void pad_rows(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, bool left, ModelInputs& inputs) {
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  const auto batch = int64_t(rows.size()), length = int64_t(longest);
  Tensor ids = Tensor::zeros(Shape{batch, length}, DType::I64);
  Tensor mask = Tensor::zeros(Shape{batch, length}, DType::I64);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& row = rows[size_t(b)];
    const int64_t pad = length - int64_t(row.size()), first = left ? pad : 0;  // where the row's ids start
    for (int64_t s = 0; s < length; ++s) {
      const bool real = s >= first && s < first + int64_t(row.size());
      ids.data<int64_t>()[b * length + s] = real ? row[size_t(s - first)] : pad_id;
      mask.data<int64_t>()[b * length + s] = real ? 1 : 0;
    }
  }
  inputs.tensors["input_ids"] = ids;
  inputs.tensors["attention_mask"] = mask;
}

}  // namespace

ImageTextBatch one_image_per_prompt(std::span<const Prompt> batch, const PromptRenderer& renderer,
                                    const Tokenizer& tokenizer, std::string_view family, ModelInputs& inputs) {
  ImageTextBatch out;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Prompt& prompt = batch[i];
    if (!prompt.videos.empty() || prompt.images.size() != 1)
      fail("{} takes exactly one image with each text; prompt {} has {} image(s) and {} video(s)", family, i,
           prompt.images.size(), prompt.videos.size());
    out.images.push_back(prompt.images[0]);
    std::string text = renderer.render(prompt);
    out.ids.push_back(tokenizer.encode(text, true));
    inputs.texts.push_back(std::move(text));
  }
  return out;
}

void pad_left(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, ModelInputs& inputs) {
  pad_rows(rows, pad_id, true, inputs);
}

void pad_right(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, ModelInputs& inputs) {
  pad_rows(rows, pad_id, false, inputs);
}

}  // namespace vlm
