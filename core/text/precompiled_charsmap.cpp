#include "precompiled_charsmap.hpp"

#include <cstring>

#include "unicode.hpp"
#include "utf8.hpp"
#include "vlm/util/error.hpp"

namespace vlm::text_detail {

std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const int v = value(c);
    if (v < 0) fail("invalid base64 character '{}'", c);
    buffer = (buffer << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob) {
  if (blob.size() < 4) fail("precompiled_charsmap is too short ({} bytes)", blob.size());
  uint32_t trie_bytes = 0;
  for (int i = 3; i >= 0; --i) trie_bytes = (trie_bytes << 8) | static_cast<unsigned char>(blob[std::size_t(i)]);
  if (trie_bytes % 4 != 0 || 4 + std::size_t(trie_bytes) > blob.size())
    fail("precompiled_charsmap: trie size {} does not fit the {}-byte blob", trie_bytes, blob.size());
  units_.resize(trie_bytes / 4);
  for (std::size_t i = 0; i < units_.size(); ++i) {
    uint32_t u = 0;
    for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(blob[4 + i * 4 + std::size_t(b)]);
    units_[i] = u;
  }
  pool_.assign(blob.substr(4 + trie_bytes));
  if (units_.empty()) fail("precompiled_charsmap: empty trie");
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  // Darts unit layout: bits 0-7 label, bit 8 has-leaf, bit 9 offset scale, bits 10-30 offset, bit 31 leaf.
  auto offset = [](uint32_t unit) { return std::size_t((unit >> 10) << ((unit & (1u << 9)) >> 6)); };
  auto label = [](uint32_t unit) { return unit & ((1u << 31) | 0xFFu); };
  std::size_t node = offset(units_[0]);
  for (char ch : chunk) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return std::nullopt;
    node ^= c;
    if (node >= units_.size()) return std::nullopt;
    const uint32_t unit = units_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (node >= units_.size()) return std::nullopt;
    if ((unit >> 8) & 1) {  // shortest match wins
      const std::size_t start = units_[node] & ((1u << 31) - 1);
      if (start >= pool_.size()) return std::nullopt;
      const std::size_t end = pool_.find('\0', start);
      return std::string_view(pool_).substr(start, (end == std::string::npos ? pool_.size() : end) - start);
    }
  }
  return std::nullopt;
}

std::string PrecompiledCharsmap::normalize(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  auto per_character = [&](std::string_view grapheme) {
    for (std::size_t pos = 0; pos < grapheme.size();) {
      const std::size_t len = sequence_length(static_cast<unsigned char>(grapheme[pos]));
      const auto ch = grapheme.substr(pos, len);
      if (auto replacement = transform(ch)) out.append(*replacement);
      else out.append(ch);
      pos += len;
    }
  };
  auto visit = [&](std::string_view grapheme) {
    if (grapheme.size() < 6) {
      if (auto replacement = transform(grapheme)) {
        out.append(*replacement);
        return;
      }
    }
    per_character(grapheme);
  };
  // Two adjacent ASCII characters are always separated by a grapheme boundary, except CR LF. Cutting
  // there keeps the common ASCII case away from ICU while non-ASCII stretches get full segmentation.
  auto ascii = [&](std::size_t i) { return static_cast<unsigned char>(text[i]) < 0x80; };
  auto flush = [&](std::size_t start, std::size_t end) {
    if (end - start == 1 || (end - start == 2 && text[start] == '\r' && text[start + 1] == '\n'))
      visit(text.substr(start, end - start));
    else if (end > start)
      for_each_grapheme(text.substr(start, end - start), visit);
  };
  std::size_t chunk_start = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (ascii(i - 1) && ascii(i) && !(text[i - 1] == '\r' && text[i] == '\n')) {
      flush(chunk_start, i);
      chunk_start = i;
    }
  }
  flush(chunk_start, text.size());
  return out;
}

}  // namespace vlm::text_detail
