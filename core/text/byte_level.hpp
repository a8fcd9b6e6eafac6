#pragma once
// GPT-2's reversible byte <-> printable-character mapping used by ByteLevel pre-tokenizer and decoder:
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace vlm::text_detail {

struct ByteLevelAlphabet {
  std::array<std::string, 256> byte_to_utf8;  // UTF-8 of the character standing for each byte
  std::array<int, 0x200> char_to_byte;        // inverse over U+0000..U+01FF, -1 = not in the alphabet
};
const ByteLevelAlphabet& byte_level_alphabet();

// Maps every byte of `text` to its character (the ByteLevel pre-tokenizer/normalizer transform).
void append_byte_level(std::string& out, std::string_view text);
// Inverse for one token; nullopt when a character is outside the alphabet.
std::optional<std::string> byte_level_to_bytes(std::string_view token);

}  // namespace vlm::text_detail
