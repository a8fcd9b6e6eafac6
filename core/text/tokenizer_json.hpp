#pragma once
// Parsing tokenizer.json. The model's vocabulary and merges (hundreds of thousands of entries in
// Llama-3's file) are streamed straight into flat tables by a SAX handler instead of becoming JSON DOM
// nodes, which keeps loading a 17 MB file fast; everything else is an ordinary JSON DOM.
#include <cstdint>
#include <string>
#include <string_view>
#include <optional>
#include <utility>
#include <vector>

#include "vlm/io/config.hpp"

namespace vlm::text_detail {

struct MergeEntry {
  std::string left;   // or the whole "left right" line when `is_line`
  std::string right;
  bool is_line = false;
};

struct ModelTables {
  enum class VocabKind { Absent, Map, List };
  VocabKind vocab_kind = VocabKind::Absent;
  std::vector<std::pair<std::string, int64_t>> vocab_map;  // {"token": id} (BPE, WordPiece, WordLevel)
  std::vector<std::pair<std::string, double>> vocab_list;  // [["piece", score]] (Unigram)
  bool has_merges = false;
  std::vector<MergeEntry> merges;
};

struct TokenizerJson {
  Json root;  // model.vocab and model.merges are absent here; see `tables`
  ModelTables tables;
};

// Errors name `file` and, for syntax errors, the byte offset.
TokenizerJson parse_tokenizer_json(std::string_view text, std::string_view file = "tokenizer.json");

}  // namespace vlm::text_detail
