#pragma once
// The {"String": "..."} / {"Regex": "..."} pattern of Split, Replace (normalizer and decoder).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.hpp"
#include "regex.hpp"

namespace vlm::text_detail {

class Pattern {
 public:
  static Pattern from_json(const JsonAt& json);
  static Pattern literal(std::string text);
  static Pattern regex(std::string_view pattern);

  // Non-overlapping matches, left to right.
  void find_all(std::string_view text, std::vector<MatchRange>& out) const;
  std::string replace_all(std::string_view text, std::string_view replacement) const;

 private:
  std::string literal_;
  std::optional<Regex> regex_;
};

}  // namespace vlm::text_detail
