#pragma once
// tokenizer.json "decoder": turns token strings back into text. Each step rewrites the token list
// (HF decode_chain); the result is the concatenation.
#include <memory>
#include <string>
#include <vector>

#include "json_fields.hpp"

namespace vlm::text_detail {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> decoder_from_json(const JsonAt& json);  // null JSON -> nullptr

}  // namespace vlm::text_detail
