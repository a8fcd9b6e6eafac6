#pragma once
// UTF-8 and the Python str character predicates templates depend on (strip, split, upper, repr, ...).
// Case mapping covers Latin-1, Latin Extended-A, Greek and Cyrillic; other scripts are left unchanged.
#include <string>
#include <string_view>

namespace vlm::jinja::unicode {

std::u32string decode(std::string_view utf8);  // invalid bytes decode as U+FFFD
std::string encode(std::u32string_view text);
void append(std::string& out, char32_t c);
size_t length(std::string_view utf8);  // number of code points, Python len(str)

bool is_space(char32_t c);      // str.isspace
bool is_printable(char32_t c);  // str.isprintable (approximated outside the common ranges)
bool is_alpha(char32_t c);
bool is_digit(char32_t c);      // decimal digits
bool is_word(char32_t c);       // regex \w
bool is_upper(char32_t c);
bool is_lower(char32_t c);
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);  // str.capitalize: first upper, rest lower
std::string title(std::string_view s);       // str.title

// str.strip / lstrip / rstrip: whitespace, or any of `chars` when given.
std::string strip(std::string_view s, bool left, bool right, const std::u32string* chars = nullptr);

}  // namespace vlm::jinja::unicode
