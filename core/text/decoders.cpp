#include "decoders.hpp"

#include "byte_level.hpp"
#include "pattern.hpp"
#include "utf8.hpp"
#include "vlm/text/tokenizer.hpp"

namespace vlm::text_detail {
namespace {

std::string join(const std::vector<std::string>& tokens) {
  std::size_t total = 0;
  for (const auto& t : tokens) total += t.size();
  std::string out;
  out.reserve(total);
  for (const auto& t : tokens) out += t;
  return out;
}

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& token : tokens) {
      // A token with characters outside the byte alphabet (an added token) contributes its own UTF-8.
      if (auto decoded = byte_level_to_bytes(token)) bytes += *decoded;
      else bytes += token;
    }
    tokens.assign(1, repair_utf8(bytes));
  }
};

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;  // consecutive <0xXX> bytes
    auto flush = [&] {
      if (pending.empty()) return;
      if (is_valid_utf8(pending)) out.push_back(pending);
      else out.insert(out.end(), pending.size(), to_utf8(kReplacementChar));  // one U+FFFD per byte, as HF
      pending.clear();
    };
    for (auto& token : tokens) {
      if (auto byte = parse_byte_token(token)) {
        pending.push_back(static_cast<char>(*byte));
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static std::optional<unsigned char> parse_byte_token(const std::string& token) {
    if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(token[3]), lo = hex(token[4]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<unsigned char>(hi * 16 + lo);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override { tokens.assign(1, join(tokens)); }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) {
      std::size_t begin = 0, end = token.size();
      for (std::size_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0 && begin < end; ++i)
        begin += content_.size();
      for (std::size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                              token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i)
        end -= content_.size();
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) token = pattern_.replace_all(token, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    const auto pattern = Pattern::literal(replacement_);
    for (std::size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = pattern.replace_all(tokens[i], i == 0 && strip_first_ ? "" : " ");
  }

 private:
  std::string replacement_;
  bool strip_first_;  // the prefix space the pre-tokenizer added is dropped from the first token
};

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto& token = tokens[i];
      if (i != 0) {
        if (token.starts_with(prefix_)) token.erase(0, prefix_.size());
        else token.insert(0, 1, ' ');
      }
      if (cleanup_) {
        token = clean_up_tokenization(std::move(token));
        token = Pattern::literal(" do not").replace_all(token, " don't");
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    const auto pattern = Pattern::literal(suffix_);
    for (std::size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = pattern.replace_all(tokens[i], i + 1 == tokens.size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

std::size_t count_field(const JsonAt& json, std::string_view key) {
  if (!json.has(key)) return 0;
  const auto v = json.integer(key);
  if (v < 0) json.invalid(key, "a non-negative integer");
  return std::size_t(v);
}

}  // namespace

std::unique_ptr<Decoder> decoder_from_json(const JsonAt& json) {
  if (json.node.is_null()) return nullptr;
  const std::string type = json.type();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return std::make_unique<StripDecoder>(json.string("content"), count_field(json, "start"), count_field(json, "stop"));
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(Pattern::from_json(json.at("pattern")), json.string("content"));
  if (type == "Metaspace") {
    bool strip_first = true;
    if (json.has("prepend_scheme")) strip_first = json.string("prepend_scheme") != "never";
    else if (json.has("add_prefix_space")) strip_first = json.boolean("add_prefix_space", true);
    return std::make_unique<MetaspaceDecoder>(json.has("replacement") ? json.string("replacement") : "\u2581", strip_first);
  }
  if (type == "WordPiece")
    return std::make_unique<WordPieceDecoder>(json.has("prefix") ? json.string("prefix") : "##", json.boolean("cleanup", true));
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(json.has("suffix") ? json.string("suffix") : "</w>");
  if (type == "Sequence") {
    const auto list = json.at("decoders");
    if (!list.node.is_array()) fail("{}: expected an array", list.path);
    std::vector<std::unique_ptr<Decoder>> steps;
    for (std::size_t i = 0; i < list.node.size(); ++i)
      if (auto step = decoder_from_json(list.at(i))) steps.push_back(std::move(step));
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
