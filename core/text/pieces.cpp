#include "pieces.hpp"

#include <algorithm>

#include "utf8.hpp"

namespace vlm::text_detail {

namespace {
struct Stretch {
  std::size_t start, end;
  bool is_match;
};
}  // namespace

void split_piece(const Piece& piece, const std::vector<MatchRange>& matches, SplitBehavior behavior, bool invert,
                 std::vector<Piece>& out) {
  const std::string& text = piece.text;
  // The whole text as alternating stretches of non-matches and matches.
  std::vector<Stretch> stretches;
  stretches.reserve(matches.size() * 2 + 1);
  std::size_t prev = 0;
  for (const auto& m : matches) {
    if (m.start > prev) stretches.push_back({prev, m.start, false});
    stretches.push_back({m.start, m.end, true});
    prev = m.end;
  }
  if (prev < text.size() || stretches.empty()) stretches.push_back({prev, text.size(), false});
  if (invert)
    for (auto& s : stretches) s.is_match = !s.is_match;

  // Resulting parts; `drop` marks removed delimiters.
  struct Part {
    std::size_t start, end;
    bool drop;
  };
  std::vector<Part> parts;
  parts.reserve(stretches.size());
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const auto& s : stretches) parts.push_back({s.start, s.end, s.is_match});
      break;
    case SplitBehavior::Isolated:
      for (const auto& s : stretches) parts.push_back({s.start, s.end, false});
      break;
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (const auto& s : stretches) {
        if (s.is_match == previous_match && !parts.empty()) parts.back().end = s.end;
        else parts.push_back({s.start, s.end, false});
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const auto& s : stretches) {
        if (s.is_match && !previous_match && !parts.empty()) parts.back().end = s.end;
        else parts.push_back({s.start, s.end, false});
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_match = false;  // walking backwards: "previous" is the stretch to the right
      for (auto it = stretches.rbegin(); it != stretches.rend(); ++it) {
        if (it->is_match && !previous_match && !parts.empty()) parts.back().start = it->start;
        else parts.push_back({it->start, it->end, false});
        previous_match = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  for (const auto& p : parts) {
    if (p.drop || p.end == p.start) continue;
    out.push_back({text.substr(p.start, p.end - p.start), piece.at_text_start && p.start == 0});
  }
}

void find_char_matches(std::string_view text, const std::function<bool(char32_t)>& is_delimiter,
                       std::vector<MatchRange>& out) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    if (is_delimiter(next_code_point(text, pos))) out.push_back({start, pos});
  }
}

}  // namespace vlm::text_detail
