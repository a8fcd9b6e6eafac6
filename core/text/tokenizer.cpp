// vlm::Tokenizer: loading, the public encode/decode surface, batching, and ids beyond the vocabulary.
#include "vlm/text/tokenizer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine.hpp"
#include "pipeline_engine.hpp"
#include "sentencepiece_engine.hpp"
#include "tokenizer_config.hpp"
#include "utf8.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

using text_detail::TokenizerConfig;

struct TokenizerBuilder {
  static std::shared_ptr<const Tokenizer> build(std::unique_ptr<const text_detail::TokenizerEngine> engine,
                                                const TokenizerConfig& config) {
    std::shared_ptr<Tokenizer> tokenizer(new Tokenizer());
    tokenizer->engine_ = std::move(engine);
    auto named = [&](const char* key) -> std::optional<SpecialTokenInfo> {
      const auto* t = config.named(key);
      if (!t) return std::nullopt;
      return SpecialTokenInfo{t->content, tokenizer->engine_->token_to_id(t->content)};
    };
    tokenizer->bos_ = named("bos_token");
    tokenizer->eos_ = named("eos_token");
    tokenizer->pad_ = named("pad_token");
    tokenizer->unk_ = named("unk_token");
    for (const auto& [key, t] : config.named_specials)
      if (auto id = tokenizer->engine_->token_to_id(t.content)) tokenizer->extra_special_ids_.push_back(*id);
    for (const auto& t : config.additional_specials)
      if (auto id = tokenizer->engine_->token_to_id(t.content)) tokenizer->extra_special_ids_.push_back(*id);
    tokenizer->chat_templates_ = config.chat_templates;
    // transformers 4.47 defaults to no clean-up (PreTrainedTokenizerBase). Only some slow BERT-family
    // classes default to true, and their fast classes, which a tokenizer.json loads, do not; none of them
    // ships a SentencePiece model. So an unset key means false for every tokenizer vlm loads.
    tokenizer->clean_up_tokenization_spaces_ = config.clean_up_tokenization_spaces.value_or(false);
    tokenizer->model_max_length_ = config.model_max_length;
    return tokenizer;
  }
};

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::shared_ptr<const Tokenizer> Tokenizer::load(const std::filesystem::path& dir, TokenizerSource source) {
  if (!std::filesystem::is_directory(dir)) fail("{}: not a tokenizer directory", dir.string());
  const TokenizerConfig config = text_detail::read_tokenizer_config(dir);
  const auto json_path = dir / "tokenizer.json";
  if (source != TokenizerSource::SentencePiece && std::filesystem::exists(json_path)) {
    const std::string text = text_detail::read_text_file(json_path);
    try {
      return TokenizerBuilder::build(text_detail::make_pipeline_engine(text, config), config);
    } catch (const Error& e) {
      fail("{}: {}", dir.string(), e.what());
    }
  }
  if (source != TokenizerSource::TokenizerJson)
    for (const char* name : {"tokenizer.model", "spiece.model"}) {
      const auto model_path = dir / name;
      if (std::filesystem::exists(model_path))
        return TokenizerBuilder::build(text_detail::make_sentencepiece_engine(model_path, config), config);
    }
  switch (source) {
    case TokenizerSource::TokenizerJson: fail("{}: no tokenizer.json", dir.string());
    case TokenizerSource::SentencePiece: fail("{}: no tokenizer.model or spiece.model", dir.string());
    default: fail("{}: no tokenizer.json, tokenizer.model or spiece.model", dir.string());
  }
}

std::shared_ptr<const Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json,
                                                      std::string_view tokenizer_config_json) {
  const TokenizerConfig config = text_detail::parse_tokenizer_config(tokenizer_config_json, {}, {});
  return TokenizerBuilder::build(text_detail::make_pipeline_engine(tokenizer_json, config), config);
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int64_t> ids;
  if (text_detail::is_valid_utf8(text)) {
    engine_->encode(text, add_special_tokens, ids);
  } else {
    const std::string repaired = text_detail::repair_utf8(text);
    engine_->encode(repaired, add_special_tokens, ids);
  }
  return ids;
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (const int64_t id : encode(text, false)) tokens.push_back(id_to_token(id).value_or(""));
  return tokens;
}

std::string Tokenizer::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  std::string text;
  // Known ids decode in runs so decoders see their usual context; unknown ids become markers.
  std::size_t run_start = 0;
  auto flush = [&](std::size_t end) {
    if (end > run_start) text += engine_->decode(ids.subspan(run_start, end - run_start), skip_special_tokens);
  };
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (engine_->knows(ids[i])) continue;
    flush(i);
    text += fmt::format("<id {} beyond tokenizer>", ids[i]);
    run_start = i + 1;
  }
  flush(ids.size());
  if (clean_up_tokenization_spaces_) text = clean_up_tokenization(std::move(text));
  return text;
}

std::vector<std::string> Tokenizer::decode_batch(std::span<const std::vector<int64_t>> ids,
                                                 bool skip_special_tokens) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const auto& row : ids) out.push_back(decode(row, skip_special_tokens));
  return out;
}

BatchEncoding Tokenizer::encode_batch(std::span<const std::string> texts, const BatchEncodeOptions& options) const {
  BatchEncoding batch;
  batch.input_ids.reserve(texts.size());
  for (const auto& text : texts) {
    auto ids = encode(text, options.add_special_tokens);
    if (options.max_length && ids.size() > *options.max_length) {
      if (options.truncation_side == TextSide::Right) ids.resize(*options.max_length);
      else ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(*options.max_length));
    }
    batch.input_ids.push_back(std::move(ids));
  }
  for (const auto& ids : batch.input_ids) batch.attention_mask.emplace_back(ids.size(), 1);
  if (!options.pad) return batch;

  std::size_t target = 0;
  for (const auto& ids : batch.input_ids) target = std::max(target, ids.size());
  if (options.pad_to_max_length) {
    if (!options.max_length) fail("encode_batch: pad_to_max_length needs max_length");
    target = *options.max_length;
  }
  if (options.pad_to_multiple_of > 1)
    target = (target + options.pad_to_multiple_of - 1) / options.pad_to_multiple_of * options.pad_to_multiple_of;
  const auto pad = options.pad_id ? options.pad_id : pad_id();
  for (std::size_t row = 0; row < batch.input_ids.size(); ++row) {
    auto& ids = batch.input_ids[row];
    auto& mask = batch.attention_mask[row];
    if (ids.size() >= target) continue;
    if (!pad) fail("encode_batch: padding needed but the tokenizer has no pad token and no pad_id was given");
    const std::size_t missing = target - ids.size();
    if (options.padding_side == TextSide::Right) {
      ids.insert(ids.end(), missing, *pad);
      mask.insert(mask.end(), missing, 0);
    } else {
      ids.insert(ids.begin(), missing, *pad);
      mask.insert(mask.begin(), missing, 0);
    }
  }
  return batch;
}

std::optional<int64_t> Tokenizer::token_to_id(std::string_view token) const { return engine_->token_to_id(token); }
std::optional<std::string> Tokenizer::id_to_token(int64_t id) const { return engine_->id_to_token(id); }
std::size_t Tokenizer::vocab_size() const { return engine_->vocab_size(); }

bool Tokenizer::is_special(int64_t id) const {
  return engine_->is_special(id) ||
         std::find(extra_special_ids_.begin(), extra_special_ids_.end(), id) != extra_special_ids_.end();
}

std::optional<std::string> Tokenizer::chat_template(const std::string& name) const {
  auto it = chat_templates_.find(name);
  if (it == chat_templates_.end()) return std::nullopt;
  return it->second;
}

}  // namespace vlm
