#include "pipeline_engine.hpp"

#include <algorithm>
#include <set>

#include "added_vocabulary.hpp"
#include "decoders.hpp"
#include "models.hpp"
#include "normalizers.hpp"
#include "post_processors.hpp"
#include "pre_tokenizers.hpp"
#include "tokenizer_json.hpp"

namespace vlm::text_detail {
namespace {

constexpr std::string_view kFile = "tokenizer.json";

class PipelineEngine final : public TokenizerEngine {
 public:
  PipelineEngine(std::string_view tokenizer_json, const TokenizerConfig& config);

  void encode(std::string_view text, bool add_special_tokens, std::vector<int64_t>& ids) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int64_t id) const override;
  bool knows(int64_t id) const override;
  std::size_t vocab_size() const override { return std::max(model_->id_bound(), added_.id_bound()); }
  bool is_special(int64_t id) const override {
    const auto* t = id >= 0 && id <= INT32_MAX ? added_.by_id(int32_t(id)) : nullptr;
    return t && t->special;
  }

 private:
  void read_added_tokens(const JsonAt& list);
  void merge_config_tokens(const TokenizerConfig& config);
  void apply_llama_bos_eos(const TokenizerConfig& config);
  void encode_text(std::string_view text, bool at_text_start, std::vector<int64_t>& ids) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
};

PipelineEngine::PipelineEngine(std::string_view tokenizer_json, const TokenizerConfig& config) {
  TokenizerJson document = parse_tokenizer_json(tokenizer_json, kFile);
  const Json& root = document.root;
  const JsonAt json{root, std::string(kFile) + ":"};
  auto member = [&](const char* key) {
    static const Json null_json;
    auto it = root.find(key);
    return JsonAt{it == root.end() ? null_json : *it, std::string(kFile) + ": " + key};
  };
  normalizer_ = normalizer_from_json(member("normalizer"));
  pre_tokenizer_ = pre_tokenizer_from_json(member("pre_tokenizer"));
  model_ = model_from_json(member("model"), document.tables);
  post_processor_ = post_processor_from_json(member("post_processor"));
  decoder_ = decoder_from_json(member("decoder"));
  if (json.has("added_tokens")) read_added_tokens(member("added_tokens"));
  merge_config_tokens(config);
  apply_llama_bos_eos(config);
  added_.build(normalizer_.get(), config.split_special_tokens);
}

void PipelineEngine::read_added_tokens(const JsonAt& list) {
  if (!list.node.is_array()) fail("{}: expected an array", list.path);
  for (std::size_t i = 0; i < list.node.size(); ++i) {
    const auto entry = list.at(i);
    AddedToken t;
    t.id = int32_t(entry.integer("id"));
    t.content = entry.string("content");
    t.single_word = entry.boolean("single_word", false);
    t.lstrip = entry.boolean("lstrip", false);
    t.rstrip = entry.boolean("rstrip", false);
    t.special = entry.boolean("special", false);
    t.normalized = entry.boolean("normalized", !t.special);
    added_.add(std::move(t));
  }
}

// transformers' PreTrainedTokenizerFast adds what tokenizer_config.json declares but tokenizer.json
// lacks: added_tokens_decoder entries, then the named special tokens (as special added tokens, reusing
// a vocabulary id when the text is already a token, else the next free id).
void PipelineEngine::merge_config_tokens(const TokenizerConfig& config) {
  for (const auto& t : config.added_tokens_decoder)
    if (!added_.by_id(t.id)) added_.add(t);
  std::vector<AddedToken> specials;
  for (const auto& [key, t] : config.named_specials) specials.push_back(t);
  specials.insert(specials.end(), config.additional_specials.begin(), config.additional_specials.end());
  for (auto t : specials) {
    if (added_.by_content(t.content)) continue;
    const auto existing = model_->token_to_id(t.content);
    t.id = existing ? *existing : int32_t(vocab_size());
    t.special = true;
    added_.add(std::move(t));
  }
  for (const auto& [content, id] : config.added_tokens_json) {
    if (added_.by_content(content) || model_->token_to_id(content)) continue;
    AddedToken t;
    t.content = content;
    t.id = id;
    t.normalized = true;
    added_.add(std::move(t));
  }
}

// LlamaTokenizerFast (and Gemma/CodeLlama) rebuild the post-processor from add_bos_token/add_eos_token
// (defaults: bos on, eos off) whenever they load, overriding tokenizer.json's template.
void PipelineEngine::apply_llama_bos_eos(const TokenizerConfig& config) {
  static const std::set<std::string, std::less<>> kClasses = {
      "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
      "GemmaTokenizer", "GemmaTokenizerFast"};
  if (!kClasses.contains(config.tokenizer_class)) return;
  auto id_of = [&](const char* key) -> std::optional<int64_t> {
    const AddedToken* t = config.named(key);
    return t ? token_to_id(t->content) : std::nullopt;
  };
  std::vector<int64_t> prefix, suffix;
  if (config.add_bos_token.value_or(true)) {
    const auto bos = id_of("bos_token");
    if (!bos) fail("tokenizer_config.json: add_bos_token is set but bos_token is missing or unknown");
    prefix.push_back(*bos);
  }
  if (config.add_eos_token.value_or(false)) {
    const auto eos = id_of("eos_token");
    if (!eos) fail("tokenizer_config.json: add_eos_token is set but eos_token is missing or unknown");
    suffix.push_back(*eos);
  }
  post_processor_ = make_wrapping_processor(std::move(prefix), std::move(suffix));
}

void PipelineEngine::encode_text(std::string_view text, bool at_text_start, std::vector<int64_t>& ids) const {
  std::vector<Piece> pieces;
  pieces.push_back({std::string(text), at_text_start});
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
  for (const auto& piece : pieces) model_->tokenize(piece.text, ids);
}

void PipelineEngine::encode(std::string_view text, bool add_special_tokens, std::vector<int64_t>& ids) const {
  std::vector<TextSegment> raw, normalized;
  added_.split_raw(text, raw);
  std::string segment;
  for (const auto& r : raw) {
    if (r.token_id >= 0) {
      ids.push_back(r.token_id);
      continue;
    }
    segment.assign(text.substr(r.start, r.end - r.start));
    if (normalizer_) normalizer_->normalize(segment);
    normalized.clear();
    added_.split_normalized(segment, normalized);
    for (const auto& n : normalized) {
      if (n.token_id >= 0) ids.push_back(n.token_id);
      else encode_text(std::string_view(segment).substr(n.start, n.end - n.start), r.start == 0 && n.start == 0, ids);
    }
  }
  if (add_special_tokens && post_processor_) post_processor_->add_special_tokens(ids);
}

std::string PipelineEngine::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int64_t id : ids) {
    if (const auto* added = added_.by_id(int32_t(id))) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
    } else if (const auto* token = model_->id_to_token(int32_t(id))) {
      tokens.push_back(*token);
    }
  }
  if (!decoder_) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  decoder_->decode_chain(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::optional<int64_t> PipelineEngine::token_to_id(std::string_view token) const {
  if (const auto* added = added_.by_content(token)) return added->id;
  if (auto id = model_->token_to_id(token)) return *id;
  return std::nullopt;
}

std::optional<std::string> PipelineEngine::id_to_token(int64_t id) const {
  if (id < 0 || id > INT32_MAX) return std::nullopt;
  if (const auto* added = added_.by_id(int32_t(id))) return added->content;
  if (const auto* token = model_->id_to_token(int32_t(id))) return *token;
  return std::nullopt;
}

bool PipelineEngine::knows(int64_t id) const {
  if (id < 0 || id > INT32_MAX) return false;
  return added_.by_id(int32_t(id)) || model_->id_to_token(int32_t(id));
}

}  // namespace

std::unique_ptr<TokenizerEngine> make_pipeline_engine(std::string_view tokenizer_json, const TokenizerConfig& config) {
  return std::make_unique<PipelineEngine>(tokenizer_json, config);
}

}  // namespace vlm::text_detail
