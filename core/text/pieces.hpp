#pragma once
// The unit pre-tokenizers work on: a stretch of normalized text that later becomes one model input.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "regex.hpp"

namespace vlm::text_detail {

struct Piece {
  std::string text;
  // Starts at offset 0 of the original input: Metaspace's prepend_scheme "first" prepends only there.
  bool at_text_start = false;
};

// How a split treats the matched delimiters (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Cuts `piece` at `matches` (sorted, non-overlapping) and appends the non-empty parts to `out`.
// `invert` swaps which stretches count as delimiters.
void split_piece(const Piece& piece, const std::vector<MatchRange>& matches, SplitBehavior behavior, bool invert,
                 std::vector<Piece>& out);

// Every character satisfying `is_delimiter` becomes its own match.
void find_char_matches(std::string_view text, const std::function<bool(char32_t)>& is_delimiter,
                       std::vector<MatchRange>& out);

}  // namespace vlm::text_detail
