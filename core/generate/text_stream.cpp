#include "vlm/generate/text_stream.hpp"

namespace vlm {

namespace {
bool ends_incomplete(const std::string& text) {
  // U+FFFD (EF BF BD) at the end means the last token(s) hold part of a UTF-8 character.
  return text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}
}  // namespace

std::string TextStream::push(int64_t token) {
  tokens_.push_back(token);
  const std::span<const int64_t> all(tokens_);
  // Decode a small window (from prefix_offset) so that the tokenizer sees the context a word piece needs,
  // and release only what lies beyond the text already released.
  const std::string prefix = decode_(all.subspan(prefix_offset_, read_offset_ - prefix_offset_));
  const std::string text = decode_(all.subspan(prefix_offset_));
  if (text.size() > prefix.size() && !ends_incomplete(text)) {
    std::string released = text.substr(prefix.size());
    prefix_offset_ = read_offset_;
    read_offset_ = tokens_.size();
    return released;
  }
  return {};
}

std::string TextStream::flush() {
  const std::span<const int64_t> all(tokens_);
  const std::string prefix = decode_(all.subspan(prefix_offset_, read_offset_ - prefix_offset_));
  const std::string text = decode_(all.subspan(prefix_offset_));
  prefix_offset_ = read_offset_ = tokens_.size();
  return text.size() > prefix.size() ? text.substr(prefix.size()) : std::string();
}

}  // namespace vlm
