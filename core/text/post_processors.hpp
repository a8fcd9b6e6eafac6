#pragma once
// tokenizer.json "post_processor": adds the special tokens around an encoded sequence when
// add_special_tokens is true. Only single sequences are supported (no pair encoding in the API).
#include <cstdint>
#include <memory>
#include <vector>

#include "json_fields.hpp"

namespace vlm::text_detail {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void add_special_tokens(std::vector<int64_t>& ids) const = 0;
};

std::unique_ptr<PostProcessor> post_processor_from_json(const JsonAt& json);  // null JSON -> nullptr

// "$A" between fixed prefix and suffix ids: TemplateProcessing's single template, and what
// transformers' LlamaTokenizerFast.update_post_processor builds from add_bos_token/add_eos_token.
std::unique_ptr<PostProcessor> make_wrapping_processor(std::vector<int64_t> prefix, std::vector<int64_t> suffix);

}  // namespace vlm::text_detail
