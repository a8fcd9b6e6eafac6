#pragma once
// Typed access to tokenizer.json / tokenizer_config.json fields with errors that name the file and the
// path of the field, e.g. `tokenizer.json: model.merges[3]: expected a string`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vlm/io/config.hpp"
#include "vlm/util/error.hpp"

namespace vlm::text_detail {

// A JSON node and where it sits, for error messages.
struct JsonAt {
  const Json& node;
  std::string path;  // "tokenizer.json: pre_tokenizer.pretokenizers[1]"

  JsonAt at(std::string_view key) const;  // child object member; absent -> Error
  JsonAt at(std::size_t index) const;
  bool has(std::string_view key) const;  // present and not null
  std::string key_path(std::string_view key) const { return path + "." + std::string(key); }

  std::string string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  bool boolean(std::string_view key, bool fallback) const;
  int64_t integer(std::string_view key) const;
  std::optional<int64_t> optional_integer(std::string_view key) const;
  double number(std::string_view key) const;
  std::string type() const;  // the "type" member
  [[noreturn]] void unsupported(std::string_view what, std::string_view value) const;
  [[noreturn]] void invalid(std::string_view key, std::string_view expected) const;
};

}  // namespace vlm::text_detail
