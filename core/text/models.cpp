#include "models.hpp"

#include <fmt/format.h>

namespace vlm::text_detail {

std::string byte_fallback_token(unsigned char byte) { return fmt::format("<0x{:02X}>", byte); }

std::unique_ptr<Model> model_from_json(const JsonAt& json) {
  if (!json.node.is_object()) fail("{}: expected an object", json.path);
  std::string type;
  if (json.has("type")) {
    type = json.type();
  } else if (json.has("merges")) {
    type = "BPE";
  } else if (json.has("vocab") && json.at("vocab").node.is_array()) {
    type = "Unigram";
  } else if (json.has("max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    type = "WordLevel";
  }
  if (type == "BPE") return bpe_model_from_json(json);
  if (type == "Unigram") return unigram_model_from_json(json);
  if (type == "WordPiece") return wordpiece_model_from_json(json);
  if (type == "WordLevel") return wordlevel_model_from_json(json);
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
