#include "models.hpp"

#include <fmt/format.h>

#include "vocabulary.hpp"

namespace vlm::text_detail {

std::string byte_fallback_token(unsigned char byte) { return fmt::format("<0x{:02X}>", byte); }

void vocab_from_map(const JsonAt& json, ModelTables& tables, Vocabulary& vocab) {
  if (tables.vocab_kind != ModelTables::VocabKind::Map) fail("{}: expected an object of token -> id", json.key_path("vocab"));
  const std::string where = json.key_path("vocab");
  vocab.reserve(tables.vocab_map.size());
  for (auto& [token, id] : tables.vocab_map) {
    if (id < 0 || id > INT32_MAX) fail("{}: \"{}\": id {} is out of range", where, token, id);
    vocab.add(std::move(token), int32_t(id), where);
  }
  tables.vocab_map = {};
}

std::unique_ptr<Model> model_from_json(const JsonAt& json, ModelTables& tables) {
  if (!json.node.is_object()) fail("{}: expected an object", json.path);
  std::string type;
  if (json.has("type")) {
    type = json.type();
  } else if (tables.has_merges) {
    type = "BPE";
  } else if (tables.vocab_kind == ModelTables::VocabKind::List) {
    type = "Unigram";
  } else if (json.has("max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    type = "WordLevel";
  }
  if (type == "BPE") return bpe_model_from_json(json, tables);
  if (type == "Unigram") return unigram_model_from_json(json, tables);
  if (type == "WordPiece") return wordpiece_model_from_json(json, tables);
  if (type == "WordLevel") return wordlevel_model_from_json(json, tables);
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
