#include "unicode.hpp"

#include <memory>

#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

#include "utf8.hpp"
#include "vlm/util/error.hpp"

namespace vlm::text_detail {

static const icu::Normalizer2& normalizer_for(NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::NFC: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalForm::NFD: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalForm::NFKC: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalForm::NFKD: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status) || !n) fail("ICU normalizer unavailable: {}", u_errorName(status));
  return *n;
}

std::string normalize_unicode(std::string_view text, NormalForm form) {
  if (is_ascii(text)) return std::string(text);  // ASCII is invariant under every normal form
  const auto& n = normalizer_for(form);
  UErrorCode status = U_ZERO_ERROR;
  if (n.isNormalizedUTF8(icu::StringPiece(text.data(), int32_t(text.size())), status) && U_SUCCESS(status))
    return std::string(text);
  status = U_ZERO_ERROR;
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  icu::StringByteSink<std::string> sink(&out);
  n.normalizeUTF8(0, icu::StringPiece(text.data(), int32_t(text.size())), sink, nullptr, status);
  if (U_FAILURE(status)) fail("Unicode normalization failed: {}", u_errorName(status));
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++pos;
      continue;
    }
    const char32_t cp = next_code_point(text, pos);
    // One character at a time, so ICU's context-sensitive rules (final sigma) never apply.
    UChar src[2];
    int32_t src_len = 0;
    U16_APPEND_UNSAFE(src, src_len, cp);
    UChar dst[8];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t len = u_strToLower(dst, 8, src, src_len, "", &status);
    if (U_FAILURE(status)) {
      append_utf8(out, cp);
      continue;
    }
    for (int32_t i = 0; i < len;) {
      UChar32 c;
      U16_NEXT(dst, i, len, c);
      append_utf8(out, char32_t(c));
    }
  }
  return out;
}

std::string strip_marks(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t cp = next_code_point(text, pos);
    if (u_charType(UChar32(cp)) != U_NON_SPACING_MARK) out.append(text.substr(start, pos - start));
  }
  return out;
}

bool is_whitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return u_hasBinaryProperty(UChar32(cp), UCHAR_WHITE_SPACE);
}

bool is_numeric(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  const auto type = u_charType(UChar32(cp));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool is_alphanumeric(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  return u_hasBinaryProperty(UChar32(cp), UCHAR_ALPHABETIC) || is_numeric(cp);
}

bool is_control(char32_t cp) {
  const auto type = u_charType(UChar32(cp));
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || type == U_PRIVATE_USE_CHAR ||
         type == U_UNASSIGNED || type == U_SURROGATE;
}

bool is_punctuation(char32_t cp) {
  switch (u_charType(UChar32(cp))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

namespace {
struct BreakIteratorDeleter {
  void operator()(icu::BreakIterator* it) const { delete it; }
};
struct UTextCloser {
  void operator()(UText* t) const { utext_close(t); }
};
}  // namespace

void for_each_grapheme(std::string_view text, const std::function<void(std::string_view)>& visit) {
  // ICU iterators are not thread-safe; each thread keeps its own.
  thread_local std::unique_ptr<icu::BreakIterator, BreakIteratorDeleter> iterator = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator, BreakIteratorDeleter> it(
        icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) fail("ICU grapheme iterator unavailable: {}", u_errorName(status));
    return it;
  }();
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UText, UTextCloser> utext(utext_openUTF8(nullptr, text.data(), int64_t(text.size()), &status));
  if (U_FAILURE(status)) fail("ICU could not open text: {}", u_errorName(status));
  iterator->setText(utext.get(), status);
  if (U_FAILURE(status)) fail("ICU could not segment text: {}", u_errorName(status));
  // Native indices of a UTF-8 UText are byte offsets.
  int32_t start = iterator->first();
  for (int32_t end = iterator->next(); end != icu::BreakIterator::DONE; start = end, end = iterator->next())
    visit(text.substr(std::size_t(start), std::size_t(end - start)));
}

}  // namespace vlm::text_detail
