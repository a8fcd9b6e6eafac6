#pragma once
// Added tokens (tokenizer.json "added_tokens" and tokens transformers adds from tokenizer_config.json):
// matched in the text before the model runs, leftmost-longest as HF's AddedVocabulary does. Tokens
// flagged `normalized` are matched in the normalized text (their content normalized the same way);
// the others in the raw text. lstrip/rstrip swallow adjacent whitespace; single_word rejects matches
// inside a word.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vocabulary.hpp"

namespace vlm::text_detail {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A stretch of text: either plain text (token_id < 0) or an added token.
struct TextSegment {
  std::size_t start = 0;
  std::size_t end = 0;
  int32_t token_id = -1;
};

class AddedVocabulary {
 public:
  // Later additions of the same content or id replace earlier ones (tokenizer_config overrides).
  void add(AddedToken token);
  // Builds the matchers; call after the last add(). `normalizer` may be null.
  void build(const Normalizer* normalizer, bool split_special_tokens);

  void split_raw(std::string_view text, std::vector<TextSegment>& out) const { split(text, raw_, out); }
  void split_normalized(std::string_view text, std::vector<TextSegment>& out) const { split(text, normalized_, out); }

  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  bool empty() const { return tokens_.empty(); }
  std::size_t id_bound() const;  // highest added id + 1 (0 when empty)
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Matcher {
    ByteTrie trie;                  // content -> index into tokens_
    bool empty = true;
  };
  void split(std::string_view text, const Matcher& matcher, std::vector<TextSegment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> by_content_;
  Matcher raw_, normalized_;
};

}  // namespace vlm::text_detail
