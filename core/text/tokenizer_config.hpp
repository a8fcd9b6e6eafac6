#pragma once
// The transformers-side files next to the tokenizer: tokenizer_config.json, special_tokens_map.json and
// added_tokens.json. They name the special tokens, add tokens, and carry flags tokenizer.json lacks.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "added_vocabulary.hpp"

namespace vlm::text_detail {

struct TokenizerConfig {
  // bos/eos/unk/pad/sep/cls/mask: content and flags (id < 0: not given).
  std::map<std::string, AddedToken> named_specials;
  std::vector<AddedToken> additional_specials;
  std::vector<AddedToken> added_tokens_decoder;  // with ids
  std::map<std::string, int32_t> added_tokens_json;
  std::optional<bool> add_bos_token, add_eos_token, add_prefix_space, legacy;
  std::optional<bool> clean_up_tokenization_spaces;
  bool split_special_tokens = false;
  bool spaces_between_special_tokens = true;  // slow-tokenizer decode only
  std::string tokenizer_class;
  std::map<std::string, std::string> chat_templates;
  std::optional<std::size_t> model_max_length;

  const AddedToken* named(std::string_view key) const {
    auto it = named_specials.find(std::string(key));
    return it == named_specials.end() ? nullptr : &it->second;
  }
};

// `config_text` is tokenizer_config.json (may be empty), the others may be empty too.
TokenizerConfig parse_tokenizer_config(std::string_view config_text, std::string_view special_tokens_map_text,
                                       std::string_view added_tokens_text);
// Reads the three files of `dir` (absent files count as empty).
TokenizerConfig read_tokenizer_config(const std::filesystem::path& dir);

std::string read_text_file(const std::filesystem::path& path);

}  // namespace vlm::text_detail
