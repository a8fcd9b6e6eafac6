#include "byte_level.hpp"

#include "utf8.hpp"

namespace vlm::text_detail {

const ByteLevelAlphabet& byte_level_alphabet() {
  static const ByteLevelAlphabet alphabet = [] {
    ByteLevelAlphabet a;
    a.char_to_byte.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    int next_extra = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable(b) ? char32_t(b) : char32_t(256 + next_extra++);
      a.byte_to_utf8[std::size_t(b)] = to_utf8(cp);
      a.char_to_byte[cp] = b;
    }
    return a;
  }();
  return alphabet;
}

void append_byte_level(std::string& out, std::string_view text) {
  const auto& table = byte_level_alphabet().byte_to_utf8;
  for (char c : text) out += table[static_cast<unsigned char>(c)];
}

std::optional<std::string> byte_level_to_bytes(std::string_view token) {
  const auto& inverse = byte_level_alphabet().char_to_byte;
  std::string out;
  out.reserve(token.size());
  for (std::size_t pos = 0; pos < token.size();) {
    const char32_t cp = next_code_point(token, pos);
    if (cp >= inverse.size() || inverse[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(inverse[cp]));
  }
  return out;
}

}  // namespace vlm::text_detail
