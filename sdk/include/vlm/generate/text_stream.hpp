#pragma once
// Incremental detokenization that never splits a UTF-8 character or a multi-token word piece: text is
// released only once decoding the newest tokens no longer ends in an incomplete sequence (U+FFFD).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace vlm {

class TextStream {
 public:
  using Decode = std::function<std::string(std::span<const int64_t>)>;
  explicit TextStream(Decode decode) : decode_(std::move(decode)) {}
  // Adds a token; returns the text that became final (possibly empty).
  std::string push(int64_t token);
  // Releases whatever is left (at the end of generation).
  std::string flush();
  const std::vector<int64_t>& tokens() const { return tokens_; }

 private:
  Decode decode_;
  std::vector<int64_t> tokens_;
  size_t prefix_offset_ = 0, read_offset_ = 0;
};

}  // namespace vlm
