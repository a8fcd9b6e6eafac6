#pragma once
// Unicode properties and transforms the Hugging Face components rely on, backed by ICU. Property
// predicates follow Rust's char methods (HF tokenizers is written in Rust).
#include <functional>
#include <string>
#include <string_view>

namespace vlm::text_detail {

enum class NormalForm { NFC, NFD, NFKC, NFKD };

std::string normalize_unicode(std::string_view text, NormalForm form);
// Full per-character lower-casing (Rust char::to_lowercase: no context rules such as final sigma).
std::string lowercase(std::string_view text);
// Removes combining marks (Mn), as HF's StripAccents does after an NFD/NFKD normalizer.
std::string strip_marks(std::string_view text);

bool is_whitespace(char32_t cp);    // White_Space property (char::is_whitespace)
bool is_numeric(char32_t cp);       // Nd, Nl, No (char::is_numeric)
bool is_alphanumeric(char32_t cp);  // Alphabetic or numeric (char::is_alphanumeric)
bool is_control(char32_t cp);       // Cc, Cf, Co, Cn, Cs
bool is_punctuation(char32_t cp);   // general category P*
bool is_cjk_ideograph(char32_t cp);

// Calls `visit` for each extended grapheme cluster of valid UTF-8 `text`, in order.
void for_each_grapheme(std::string_view text, const std::function<void(std::string_view)>& visit);

}  // namespace vlm::text_detail
