#include "pattern.hpp"

namespace vlm::text_detail {

Pattern Pattern::from_json(const JsonAt& json) {
  if (json.has("String")) return literal(json.string("String"));
  if (json.has("Regex")) return regex(json.string("Regex"));
  fail("{}: expected {{\"String\": ...}} or {{\"Regex\": ...}}", json.path);
}

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

Pattern Pattern::regex(std::string_view pattern) {
  Pattern p;
  p.regex_.emplace(pattern);
  return p;
}

void Pattern::find_all(std::string_view text, std::vector<MatchRange>& out) const {
  if (regex_) return regex_->find_all(text, out);
  if (literal_.empty()) return;  // an empty literal never splits anything
  for (std::size_t pos = text.find(literal_); pos != std::string_view::npos;
       pos = text.find(literal_, pos + literal_.size()))
    out.push_back({pos, pos + literal_.size()});
}

std::string Pattern::replace_all(std::string_view text, std::string_view replacement) const {
  std::vector<MatchRange> matches;
  find_all(text, matches);
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t prev = 0;
  for (const auto& m : matches) {
    out.append(text.substr(prev, m.start - prev));
    out.append(replacement);
    prev = m.end;
  }
  out.append(text.substr(prev));
  return out;
}

}  // namespace vlm::text_detail
