#pragma once
// What vlm::Tokenizer delegates to: the tokenizer.json pipeline or the SentencePiece fallback.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vlm::text_detail {

class TokenizerEngine {
 public:
  virtual ~TokenizerEngine() = default;
  // `text` is valid UTF-8.
  virtual void encode(std::string_view text, bool add_special_tokens, std::vector<int64_t>& ids) const = 0;
  // Every id in `ids` satisfies knows(id).
  virtual std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int64_t id) const = 0;
  virtual bool knows(int64_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual bool is_special(int64_t id) const = 0;
};

}  // namespace vlm::text_detail
