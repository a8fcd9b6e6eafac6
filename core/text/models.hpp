#pragma once
// tokenizer.json "model": turns one pre-tokenized word into ids.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.hpp"
#include "tokenizer_json.hpp"

namespace vlm::text_detail {

class Model {
 public:
  virtual ~Model() = default;
  virtual void tokenize(std::string_view word, std::vector<int64_t>& ids) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;  // nullptr for unknown ids
  virtual std::size_t id_bound() const = 0;                      // highest id + 1
};

// `json` is the "model" object without vocab/merges, which arrive parsed in `tables` (moved from).
// `type` may be absent in older files; it is then inferred from the fields, as HF does.
std::unique_ptr<Model> model_from_json(const JsonAt& json, ModelTables& tables);

std::unique_ptr<Model> bpe_model_from_json(const JsonAt& json, ModelTables& tables);
std::unique_ptr<Model> unigram_model_from_json(const JsonAt& json, ModelTables& tables);
std::unique_ptr<Model> wordpiece_model_from_json(const JsonAt& json, ModelTables& tables);
std::unique_ptr<Model> wordlevel_model_from_json(const JsonAt& json, ModelTables& tables);

// Fills `vocab` from a {"token": id} table; other shapes are an Error naming `json.path`.vocab.
class Vocabulary;
void vocab_from_map(const JsonAt& json, ModelTables& tables, Vocabulary& vocab);

// "<0x0A>"-style byte tokens of byte_fallback vocabularies.
std::string byte_fallback_token(unsigned char byte);

}  // namespace vlm::text_detail
