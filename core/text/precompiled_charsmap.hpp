#pragma once
// SentencePiece's precompiled normalization rules (the `precompiled_charsmap` of T5, XLM-R, ...): a
// Darts double-array trie mapping UTF-8 byte strings to offsets into a pool of NUL-terminated
// replacements. Applied the way HF tokenizers' Precompiled normalizer does: per extended grapheme
// cluster (clusters shorter than 6 bytes are looked up whole), otherwise character by character, and a
// lookup takes the *shortest* rule matching a prefix of the chunk.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vlm::text_detail {

class PrecompiledCharsmap {
 public:
  // `blob` is the decoded charsmap: u32 trie byte size (little endian), trie units, replacement pool.
  explicit PrecompiledCharsmap(std::string_view blob);

  std::optional<std::string_view> transform(std::string_view chunk) const;
  std::string normalize(std::string_view text) const;

 private:
  std::vector<uint32_t> units_;
  std::string pool_;
};

std::string base64_decode(std::string_view text);

}  // namespace vlm::text_detail
