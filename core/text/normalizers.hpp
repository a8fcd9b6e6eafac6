#pragma once
// tokenizer.json "normalizer": rewrites each text segment before pre-tokenization. Offsets are not
// tracked (the public API returns ids only), so a normalizer is a plain string transform.
#include <memory>
#include <string>

#include "json_fields.hpp"

namespace vlm::text_detail {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Null JSON gives nullptr (no normalizer); an unknown type is an Error naming it.
std::unique_ptr<Normalizer> normalizer_from_json(const JsonAt& json);

}  // namespace vlm::text_detail
