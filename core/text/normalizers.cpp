#include "normalizers.hpp"

#include <optional>
#include <vector>

#include "byte_level.hpp"
#include "pattern.hpp"
#include "precompiled_charsmap.hpp"
#include "unicode.hpp"
#include "utf8.hpp"

namespace vlm::text_detail {
namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  void normalize(std::string& text) const override { text = normalize_unicode(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override { text = lowercase(text); }
};

class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override { text = strip_marks(text); }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    std::size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        std::size_t next = begin;
        if (!is_whitespace(next_code_point(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        std::size_t probe = start;
        if (!is_whitespace(next_code_point(text, probe))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);  // HF leaves empty segments empty
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override { text = pattern_.replace_all(text, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrecompiledNormalizer final : public Normalizer {
 public:
  explicit PrecompiledNormalizer(std::string_view blob) : charsmap_(blob) {}
  void normalize(std::string& text) const override { text = charsmap_.normalize(text); }

 private:
  PrecompiledCharsmap charsmap_;
};

class ByteLevelNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    append_byte_level(out, text);
    text = std::move(out);
  }
};

// BERT's cleanup: drop controls, unify whitespace, isolate CJK ideographs, strip accents, lower-case.
class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese_chars, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_chars_(chinese_chars), strip_accents_(strip_accents), lowercase_(lowercase) {}
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t start = pos;
      const char32_t cp = next_code_point(text, pos);
      if (clean_text_) {
        if (cp == 0 || cp == kReplacementChar) continue;
        const bool bert_whitespace = cp == '\t' || cp == '\n' || cp == '\r' || is_whitespace(cp);
        if (bert_whitespace) {
          out.push_back(' ');
          continue;
        }
        if (is_control(cp)) continue;
      }
      if (chinese_chars_ && is_cjk_ideograph(cp)) {
        out.push_back(' ');
        out.append(text, start, pos - start);
        out.push_back(' ');
        continue;
      }
      out.append(text, start, pos - start);
    }
    if (strip_accents_) out = strip_marks(normalize_unicode(out, NormalForm::NFD));
    if (lowercase_) out = lowercase(out);
    text = std::move(out);
  }

 private:
  bool clean_text_, chinese_chars_, strip_accents_, lowercase_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> normalizer_from_json(const JsonAt& json) {
  if (json.node.is_null()) return nullptr;
  const std::string type = json.type();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::NFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(json.boolean("strip_left", true), json.boolean("strip_right", true));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(json.string("prepend"));
  if (type == "Replace")
    return std::make_unique<ReplaceNormalizer>(Pattern::from_json(json.at("pattern")), json.string("content"));
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Precompiled") {
    if (!json.has("precompiled_charsmap")) return nullptr;  // an empty charsmap normalizes nothing
    const std::string blob = base64_decode(json.string("precompiled_charsmap"));
    try {
      return std::make_unique<PrecompiledNormalizer>(blob);
    } catch (const Error& e) {
      fail("{}: {}", json.key_path("precompiled_charsmap"), e.what());
    }
  }
  if (type == "BertNormalizer") {
    const bool lower = json.boolean("lowercase", true);
    // strip_accents null follows lowercase, as in BERT.
    const bool strip = json.has("strip_accents") ? json.boolean("strip_accents", lower) : lower;
    return std::make_unique<BertNormalizer>(json.boolean("clean_text", true), json.boolean("handle_chinese_chars", true),
                                            strip, lower);
  }
  if (type == "Sequence") {
    const auto list = json.at("normalizers");
    if (!list.node.is_array()) fail("{}: expected an array", list.path);
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (std::size_t i = 0; i < list.node.size(); ++i)
      if (auto step = normalizer_from_json(list.at(i))) steps.push_back(std::move(step));
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
