// SentencePiece fallback following transformers' slow LlamaTokenizer / T5Tokenizer:
//  * added tokens (tokenizer_config.json) are split out of the raw text first;
//  * legacy=true: every remaining chunk is encoded with the model's dummy "▁" prefix;
//  * legacy=false: the model is loaded with add_dummy_prefix off, the text gets one "▁" in front (spaces
//    already there are kept), and chunks starting with a space are encoded behind the unk token, whose
//    pieces are then dropped — the trick transformers uses to stop SentencePiece eating that space;
//  * Llama adds bos/eos per add_bos_token (default on) / add_eos_token; T5 appends eos unless present.
#include "sentencepiece_engine.hpp"

#include <sentencepiece_processor.h>

#include "added_vocabulary.hpp"
#include "unicode.hpp"
#include "utf8.hpp"
#include "vlm/util/error.hpp"

namespace vlm::text_detail {
namespace {

constexpr std::string_view kUnderline = "\u2581";

enum class Flavor { Llama, T5 };

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t prev = 0;
  for (std::size_t pos = text.find(from); pos != std::string_view::npos; pos = text.find(from, prev)) {
    out.append(text.substr(prev, pos - prev));
    out.append(to);
    prev = pos + from.size();
  }
  out.append(text.substr(prev));
  return out;
}

class SentencePieceEngine final : public TokenizerEngine {
 public:
  SentencePieceEngine(const std::filesystem::path& model_file, const TokenizerConfig& config);

  void encode(std::string_view text, bool add_special_tokens, std::vector<int64_t>& ids) const override;
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int64_t id) const override;
  bool knows(int64_t id) const override { return id_to_token(id).has_value(); }
  std::size_t vocab_size() const override { return std::max(std::size_t(sp_.GetPieceSize()), added_.id_bound()); }
  bool is_special(int64_t id) const override {
    const auto* t = id >= 0 && id <= INT32_MAX ? added_.by_id(int32_t(id)) : nullptr;
    return t && t->special;
  }

 private:
  std::optional<int32_t> piece_id(std::string_view piece) const;
  void encode_chunk(std::string_view chunk, std::vector<int64_t>& ids) const;
  std::string tokens_to_string(std::vector<std::string> tokens) const;

  sentencepiece::SentencePieceProcessor sp_;
  AddedVocabulary added_;
  Flavor flavor_ = Flavor::Llama;
  bool legacy_ = true;
  bool add_prefix_space_ = true;
  bool spaces_between_special_tokens_ = true;
  std::optional<int64_t> bos_id_, eos_id_;
  bool add_bos_ = true, add_eos_ = false;
  std::string unk_token_ = "<unk>";
  std::size_t unk_token_length_ = 0;
};

SentencePieceEngine::SentencePieceEngine(const std::filesystem::path& model_file, const TokenizerConfig& config) {
  flavor_ = config.tokenizer_class.find("T5") != std::string::npos ? Flavor::T5 : Flavor::Llama;
  legacy_ = config.legacy.value_or(true);  // transformers' default when the config is silent
  add_prefix_space_ = config.add_prefix_space.value_or(true);
  spaces_between_special_tokens_ = config.spaces_between_special_tokens;
  std::string proto = read_text_file(model_file);
  if (!legacy_) {
    // Append a NormalizerSpec (ModelProto field 3) holding add_dummy_prefix (field 3) = false; protobuf
    // merges repeated message fields, so this overrides just that flag.
    proto.append("\x1A\x02\x18\x00", 4);
  }
  const auto status = sp_.LoadFromSerializedProto(proto);
  if (!status.ok()) fail("{}: cannot load SentencePiece model: {}", model_file.string(), status.ToString());

  std::vector<AddedToken> tokens = config.added_tokens_decoder;
  for (const auto& [key, t] : config.named_specials) tokens.push_back(t);
  tokens.insert(tokens.end(), config.additional_specials.begin(), config.additional_specials.end());
  int32_t next_id = sp_.GetPieceSize();
  for (auto& t : tokens) {
    if (t.id < 0) {
      if (auto existing = added_.by_content(t.content)) continue;
      if (auto id = piece_id(t.content)) t.id = *id;
      else if (auto it = config.added_tokens_json.find(t.content); it != config.added_tokens_json.end()) t.id = it->second;
      else t.id = next_id;
    }
    next_id = std::max(next_id, t.id + 1);
    t.normalized = false;  // slow tokenizers match added tokens in the raw text
    added_.add(t);
  }
  for (const auto& [content, id] : config.added_tokens_json)
    if (!added_.by_content(content)) added_.add({content, id, false, false, false, false, false});
  added_.build(nullptr, config.split_special_tokens);

  auto named_id = [&](const char* key) -> std::optional<int64_t> {
    const auto* t = config.named(key);
    return t ? token_to_id(t->content) : std::nullopt;
  };
  bos_id_ = named_id("bos_token");
  eos_id_ = named_id("eos_token");
  add_bos_ = flavor_ == Flavor::Llama && config.add_bos_token.value_or(true);
  add_eos_ = flavor_ == Flavor::T5 || config.add_eos_token.value_or(false);
  if (const auto* unk = config.named("unk_token")) unk_token_ = unk->content;
  std::vector<int> unk_ids;
  sp_.Encode(unk_token_, &unk_ids).IgnoreError();
  unk_token_length_ = unk_ids.size();
}

std::optional<int32_t> SentencePieceEngine::piece_id(std::string_view piece) const {
  const int id = sp_.PieceToId(piece);
  if (id < 0 || sp_.IdToPiece(id) != piece) return std::nullopt;
  return id;
}

void SentencePieceEngine::encode_chunk(std::string_view chunk, std::vector<int64_t>& ids) const {
  std::vector<int> pieces;
  const bool starts_with_space = chunk.starts_with(kUnderline) || chunk.starts_with(" ");
  if (legacy_ || !starts_with_space) {
    sp_.Encode(chunk, &pieces).IgnoreError();
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    return;
  }
  sp_.Encode(unk_token_ + std::string(chunk), &pieces).IgnoreError();
  const std::size_t skip = pieces.size() >= unk_token_length_ ? unk_token_length_ : 0;
  ids.insert(ids.end(), pieces.begin() + std::ptrdiff_t(skip), pieces.end());
}

void SentencePieceEngine::encode(std::string_view raw_text, bool add_special_tokens, std::vector<int64_t>& ids) const {
  std::string text(raw_text);
  if (!legacy_ && !text.empty()) {
    text = replace_all(text, kUnderline, " ");
    if (add_prefix_space_) text.insert(0, kUnderline);
  }
  std::vector<TextSegment> segments;
  added_.split_raw(text, segments);
  const std::size_t first = ids.size();
  for (const auto& s : segments) {
    if (s.token_id >= 0) ids.push_back(s.token_id);
    else encode_chunk(std::string_view(text).substr(s.start, s.end - s.start), ids);
  }
  // Non-legacy: a lone "▁" before a leading special token is dropped (LlamaTokenizer.tokenize).
  if (!legacy_ && ids.size() - first > 1 && sp_.IdToPiece(int(ids[first])) == kUnderline && is_special(ids[first + 1]))
    ids.erase(ids.begin() + std::ptrdiff_t(first));
  if (!add_special_tokens) return;
  if (add_bos_ && bos_id_) ids.insert(ids.begin() + std::ptrdiff_t(first), *bos_id_);
  if (add_eos_ && eos_id_ && !(flavor_ == Flavor::T5 && ids.size() > first && ids.back() == *eos_id_))
    ids.push_back(*eos_id_);
}

std::string SentencePieceEngine::tokens_to_string(std::vector<std::string> tokens) const {
  if (tokens.empty()) return {};
  auto is_named_special = [&](const std::string& token) {
    const auto* t = added_.by_content(token);
    return t && t->special;
  };
  if (flavor_ == Flavor::T5) {
    while (tokens[0].starts_with(kUnderline)) tokens[0].erase(0, kUnderline.size());
  } else if (tokens[0].starts_with(kUnderline) && add_prefix_space_) {
    tokens[0].erase(0, kUnderline.size());
  }
  std::string out;
  std::vector<std::string> pieces;
  bool prev_special = false;
  auto decode_pieces = [&] {
    std::string s;
    sp_.Decode(pieces, &s).IgnoreError();
    pieces.clear();
    return s;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (is_named_special(tokens[i])) {
      const bool space_before = flavor_ == Flavor::T5 ? !prev_special : (!prev_special && i != 0 && legacy_);
      if (space_before) out += " ";
      out += decode_pieces() + tokens[i];
      prev_special = true;
    } else {
      if (flavor_ == Flavor::Llama && prev_special && i == 1 && add_prefix_space_ && !tokens[i].starts_with(kUnderline))
        out += " ";
      pieces.push_back(tokens[i]);
      prev_special = false;
    }
  }
  out += decode_pieces();
  if (flavor_ == Flavor::T5) {  // Python's str.strip()
    std::size_t b = 0, e = out.size();
    while (b < e && is_whitespace(static_cast<unsigned char>(out[b]))) ++b;
    while (e > b && is_whitespace(static_cast<unsigned char>(out[e - 1]))) --e;
    out = out.substr(b, e - b);
  }
  return out;
}

std::string SentencePieceEngine::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  // transformers' PreTrainedTokenizer._decode: non-special added tokens are emitted verbatim between
  // decoded stretches, joined by spaces when spaces_between_special_tokens.
  std::vector<std::string> parts, current;
  for (const int64_t id : ids) {
    const auto token = id_to_token(id);
    if (!token) continue;
    const auto* added = added_.by_id(int32_t(id));
    if (skip_special_tokens && added && added->special) continue;
    if (added && (!added->special || id >= sp_.GetPieceSize())) {
      if (!current.empty()) {
        auto s = tokens_to_string(std::move(current));
        current.clear();
        if (!s.empty()) parts.push_back(std::move(s));
      }
      parts.push_back(*token);
    } else {
      current.push_back(*token);
    }
  }
  if (!current.empty()) parts.push_back(tokens_to_string(std::move(current)));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i && spaces_between_special_tokens_ ? " " : "") + parts[i];
  return out;
}

std::optional<int64_t> SentencePieceEngine::token_to_id(std::string_view token) const {
  if (const auto* t = added_.by_content(token)) return t->id;
  if (auto id = piece_id(token)) return *id;
  return std::nullopt;
}

std::optional<std::string> SentencePieceEngine::id_to_token(int64_t id) const {
  if (id < 0 || id > INT32_MAX) return std::nullopt;
  if (const auto* t = added_.by_id(int32_t(id))) return t->content;
  if (id < sp_.GetPieceSize()) return sp_.IdToPiece(int(id));
  return std::nullopt;
}

}  // namespace

std::unique_ptr<TokenizerEngine> make_sentencepiece_engine(const std::filesystem::path& model_file,
                                                           const TokenizerConfig& config) {
  try {
    return std::make_unique<SentencePieceEngine>(model_file, config);
  } catch (const Error& e) {
    fail("{}: {}", model_file.parent_path().string(), e.what());
  }
}

}  // namespace vlm::text_detail
