#pragma once
// PCRE2-backed regular expressions for Split pre-tokenizers and Replace normalizers/decoders. Patterns
// are compiled as Unicode (UTF + UCP, so \p{L}, \s, \w are Unicode-aware) and JIT-compiled.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vlm::text_detail {

struct MatchRange {
  std::size_t start = 0;
  std::size_t end = 0;
};

class Regex {
 public:
  // `pattern` is regex syntax; an invalid pattern is a vlm::Error quoting it and PCRE2's message.
  explicit Regex(std::string_view pattern);
  static Regex literal(std::string_view text);  // matches `text` verbatim
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-overlapping matches left to right in valid UTF-8 `text`, appended to `out`.
  void find_all(std::string_view text, std::vector<MatchRange>& out) const;
  // The same with each match's capture groups: [0] the whole match, then group 1..n (an unset group is an
  // empty range at the match's start).
  void find_all_groups(std::string_view text, std::vector<std::vector<MatchRange>>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  std::string pattern_;
  std::unique_ptr<Compiled> compiled_;
};

// Escapes regex metacharacters so `text` is matched literally.
std::string regex_escape(std::string_view text);

}  // namespace vlm::text_detail
