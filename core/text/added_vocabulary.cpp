#include "added_vocabulary.hpp"

#include "normalizers.hpp"
#include "unicode.hpp"
#include "utf8.hpp"

namespace vlm::text_detail {

void AddedVocabulary::add(AddedToken token) {
  if (token.content.empty()) return;  // HF ignores empty added tokens
  if (auto it = by_id_.find(token.id); it != by_id_.end()) {
    AddedToken& existing = tokens_[it->second];
    by_content_.erase(existing.content);
    existing = std::move(token);
    by_content_[existing.content] = it->second;
    return;
  }
  if (auto it = by_content_.find(token.content); it != by_content_.end()) {
    // Same text under a new id: HF keeps the first registration.
    return;
  }
  by_id_[token.id] = tokens_.size();
  by_content_[token.content] = tokens_.size();
  tokens_.push_back(std::move(token));
}

void AddedVocabulary::build(const Normalizer* normalizer, bool split_special_tokens) {
  raw_ = {};
  normalized_ = {};
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (split_special_tokens && t.special) continue;  // special tokens are then plain text
    if (t.normalized) {
      std::string content = t.content;
      if (normalizer) normalizer->normalize(content);
      if (content.empty()) continue;
      normalized_.trie.insert(content, int32_t(i));
      normalized_.empty = false;
    } else {
      raw_.trie.insert(t.content, int32_t(i));
      raw_.empty = false;
    }
  }
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  auto it = by_content_.find(content);
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

std::size_t AddedVocabulary::id_bound() const {
  std::size_t bound = 0;
  for (const auto& t : tokens_) bound = std::max(bound, std::size_t(t.id) + 1);
  return bound;
}

namespace {
char32_t code_point_before(std::string_view text, std::size_t end, std::size_t& start) {
  start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  std::size_t pos = start;
  return next_code_point(text, pos);
}
}  // namespace

void AddedVocabulary::split(std::string_view text, const Matcher& matcher, std::vector<TextSegment>& out) const {
  std::size_t emitted = 0;  // end of what has been pushed to `out`
  if (!matcher.empty) {
    for (std::size_t pos = 0; pos < text.size();) {
      if (!matcher.trie.can_start_with(static_cast<unsigned char>(text[pos]))) {
        ++pos;
        continue;
      }
      std::size_t length = 0;
      int32_t index = -1;
      matcher.trie.for_each_prefix(text.substr(pos), [&](std::size_t len, int32_t value) {
        length = len;  // prefixes arrive shortest first: the last one is the longest
        index = value;
      });
      if (index < 0) {
        ++pos;
        continue;
      }
      const AddedToken& token = tokens_[std::size_t(index)];
      std::size_t start = pos, stop = pos + length;
      pos = stop;
      if (token.single_word) {
        std::size_t prev_start = 0, next = stop;
        const bool word_before = start > 0 && is_alphanumeric(code_point_before(text, start, prev_start));
        const bool word_after = stop < text.size() && is_alphanumeric(next_code_point(text, next));
        if (word_before || word_after) continue;
      }
      if (token.lstrip) {
        std::size_t s = start;
        while (s > emitted) {
          std::size_t prev = 0;
          if (!is_whitespace(code_point_before(text, s, prev))) break;
          s = prev;
        }
        start = s;
      }
      if (token.rstrip) {
        while (stop < text.size()) {
          std::size_t next = stop;
          if (!is_whitespace(next_code_point(text, next))) break;
          stop = next;
        }
        pos = stop;
      }
      if (start > emitted) out.push_back({emitted, start, -1});
      out.push_back({start, stop, token.id});
      emitted = stop;
    }
  }
  if (emitted < text.size()) out.push_back({emitted, text.size(), -1});
}

}  // namespace vlm::text_detail
