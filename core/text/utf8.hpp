#pragma once
// UTF-8 primitives used throughout the tokenizer: stepping over code points, encoding them, and
// repairing invalid input the way Python's decode(errors="replace") and Rust's from_utf8_lossy do.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vlm::text_detail {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Length of the valid UTF-8 sequence starting at text[pos], or 0 when the bytes there are invalid.
std::size_t valid_sequence_length(std::string_view text, std::size_t pos);

// Decodes the code point at `pos` of a *valid* UTF-8 string and advances `pos`.
inline char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  auto cont = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i]) & 0x3F); };
  char32_t cp;
  if (b0 < 0xE0) {
    cp = (char32_t(b0 & 0x1F) << 6) | cont(1);
    pos += 2;
  } else if (b0 < 0xF0) {
    cp = (char32_t(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    pos += 3;
  } else {
    cp = (char32_t(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    pos += 4;
  }
  return cp;
}

// Byte length of the code point whose first byte is `lead` (valid UTF-8 assumed).
inline std::size_t sequence_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

void append_utf8(std::string& out, char32_t cp);
inline std::string to_utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

bool is_valid_utf8(std::string_view text);
// Replaces each maximal invalid subsequence by U+FFFD (Unicode's "substitution of maximal subparts").
std::string repair_utf8(std::string_view bytes);

inline bool is_ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::size_t count_code_points(std::string_view text);

}  // namespace vlm::text_detail
