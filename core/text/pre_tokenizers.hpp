#pragma once
// tokenizer.json "pre_tokenizer": splits normalized segments into the words the model sees.
#include <memory>
#include <vector>

#include "json_fields.hpp"
#include "pieces.hpp"

namespace vlm::text_detail {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their sub-pieces (possibly transformed, e.g. byte-level mapped).
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonAt& json);  // null JSON -> nullptr

// The GPT-2 word regex ByteLevel uses when use_regex is true.
const Regex& gpt2_word_regex();

}  // namespace vlm::text_detail
