#include "pre_tokenizers.hpp"

#include "byte_level.hpp"
#include "pattern.hpp"
#include "unicode.hpp"
#include "utf8.hpp"

namespace vlm::text_detail {

const Regex& gpt2_word_regex() {
  static const Regex regex(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  return regex;
}

namespace {

// Shared driver: each piece is split by the matches `find` reports for it.
template <typename FindMatches>
void split_all(std::vector<Piece>& pieces, SplitBehavior behavior, bool invert, FindMatches&& find) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  std::vector<MatchRange> matches;
  for (const auto& piece : pieces) {
    matches.clear();
    find(piece.text, matches);
    split_piece(piece, matches, behavior, invert, out);
  }
  pieces = std::move(out);
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_all(pieces, behavior_, invert_,
              [&](std::string_view text, std::vector<MatchRange>& m) { pattern_.find_all(text, m); });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class CharSplitPreTokenizer final : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> is_delimiter, SplitBehavior behavior)
      : is_delimiter_(std::move(is_delimiter)), behavior_(behavior) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_all(pieces, behavior_, false,
              [&](std::string_view text, std::vector<MatchRange>& m) { find_char_matches(text, is_delimiter_, m); });
  }

 private:
  std::function<bool(char32_t)> is_delimiter_;
  SplitBehavior behavior_;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> words;
    words.reserve(pieces.size());
    std::vector<MatchRange> matches;
    for (auto& piece : pieces) {
      if (add_prefix_space_ && (piece.text.empty() || piece.text[0] != ' ')) piece.text.insert(0, 1, ' ');
      if (use_regex_) {
        matches.clear();
        gpt2_word_regex().find_all(piece.text, matches);
        split_piece(piece, matches, SplitBehavior::Isolated, false, words);
      } else {
        words.push_back(std::move(piece));
      }
    }
    for (auto& word : words) {
      std::string mapped;
      mapped.reserve(word.text.size() * 2);
      append_byte_level(mapped, word.text);
      word.text = std::move(mapped);
    }
    pieces = std::move(words);
  }

 private:
  bool add_prefix_space_, use_regex_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size());
    std::vector<MatchRange> matches;
    const Pattern space = Pattern::literal(" ");
    for (auto& piece : pieces) {
      piece.text = space.replace_all(piece.text, replacement_);
      const bool starts_with_replacement = piece.text.starts_with(replacement_);
      const bool prepend = scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && piece.at_text_start);
      if (prepend && !starts_with_replacement) piece.text.insert(0, replacement_);
      if (!split_) {
        out.push_back(std::move(piece));
        continue;
      }
      matches.clear();
      for (std::size_t pos = piece.text.find(replacement_); pos != std::string::npos;
           pos = piece.text.find(replacement_, pos + replacement_.size()))
        matches.push_back({pos, pos + replacement_.size()});
      split_piece(piece, matches, SplitBehavior::MergedWithNext, false, out);
    }
    pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior behavior_from_json(const JsonAt& json, std::string_view key) {
  const std::string name = json.string(key);
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  json.at(key).unsupported("split behavior", name);
}

bool is_bert_punctuation(char32_t cp) {
  return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~') ||
         is_punctuation(cp);
}

std::unique_ptr<PreTokenizer> metaspace_from_json(const JsonAt& json) {
  std::string replacement = json.has("replacement") ? json.string("replacement") : "\u2581";
  if (count_code_points(replacement) != 1) fail("{}: expected a single character", json.key_path("replacement"));
  PrependScheme scheme = PrependScheme::Always;
  if (json.has("prepend_scheme")) {
    const std::string name = json.string("prepend_scheme");
    if (name == "always") scheme = PrependScheme::Always;
    else if (name == "first") scheme = PrependScheme::First;
    else if (name == "never") scheme = PrependScheme::Never;
    else json.at("prepend_scheme").unsupported("prepend_scheme", name);
  } else if (json.has("add_prefix_space")) {  // files written before prepend_scheme existed
    scheme = json.boolean("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
  }
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, json.boolean("split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonAt& json) {
  if (json.node.is_null()) return nullptr;
  const std::string type = json.type();
  if (type == "ByteLevel") {
    if (json.has("trim_offsets") && !json.at("trim_offsets").node.is_boolean()) json.invalid("trim_offsets", "a boolean");
    return std::make_unique<ByteLevelPreTokenizer>(json.boolean("add_prefix_space", true), json.boolean("use_regex", true));
  }
  if (type == "Split")
    return std::make_unique<SplitPreTokenizer>(Pattern::from_json(json.at("pattern")), behavior_from_json(json, "behavior"),
                                               json.boolean("invert", false));
  if (type == "Metaspace") return metaspace_from_json(json);
  if (type == "WhitespaceSplit") return std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::Removed);
  if (type == "Whitespace")
    return std::make_unique<SplitPreTokenizer>(Pattern::regex(R"(\w+|[^\w\s]+)"), SplitBehavior::Removed, true);
  if (type == "Digits")
    return std::make_unique<CharSplitPreTokenizer>(
        is_numeric, json.boolean("individual_digits", false) ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  if (type == "Punctuation")
    return std::make_unique<CharSplitPreTokenizer>(
        is_bert_punctuation, json.has("behavior") ? behavior_from_json(json, "behavior") : SplitBehavior::Isolated);
  if (type == "CharDelimiterSplit") {
    const std::string delimiter = json.string("delimiter");
    if (count_code_points(delimiter) != 1) fail("{}: expected a single character", json.key_path("delimiter"));
    std::size_t pos = 0;
    const char32_t cp = next_code_point(delimiter, pos);
    return std::make_unique<CharSplitPreTokenizer>([cp](char32_t c) { return c == cp; }, SplitBehavior::Removed);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.push_back(std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::Removed));
    steps.push_back(std::make_unique<CharSplitPreTokenizer>(is_bert_punctuation, SplitBehavior::Isolated));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Sequence") {
    const auto list = json.at("pretokenizers");
    if (!list.node.is_array()) fail("{}: expected an array", list.path);
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::size_t i = 0; i < list.node.size(); ++i)
      if (auto step = pre_tokenizer_from_json(list.at(i))) steps.push_back(std::move(step));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
