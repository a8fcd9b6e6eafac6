#pragma once
// Read-only view of a JSON configuration file (config.json, generation_config.json, ...). Errors name the
// file and the dotted key path, e.g. "config.json: text_config.hidden_size: expected an integer".
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vlm/util/error.hpp"

namespace vlm {

using Json = nlohmann::json;
// Keeps object keys in insertion order, as Python dicts do (chat messages: templates may print them).
using OrderedJson = nlohmann::ordered_json;

// JSON from outside (checkpoint files, messages, request bodies, dataset lines) may nest at most this
// deep: the structures vlm reads nest a few levels, and code that walks a value recurses.
constexpr int kMaxJsonDepth = 256;
// Error "<where>: JSON nested deeper than 256 levels (line L)" when `text` nests deeper than kMaxJsonDepth.
// A linear scan (strings skipped), run before parsing.
void check_json_depth(std::string_view text, std::string_view where);
// Error "<where>:<line>: invalid UTF-8 (byte 0xNN)" at the first byte of `text` that is not UTF-8: text files
// (YAML, CSV) must be, or their strings cannot become JSON later.
void check_utf8(std::string_view text, std::string_view where);

class ConfigView {
 public:
  ConfigView();  // an empty object named "<none>"
  ConfigView(std::shared_ptr<const Json> root, std::string file);
  // Parses `path`; a missing file or a syntax error is an Error naming the file (and line for syntax).
  static ConfigView load(const std::filesystem::path& path);
  static ConfigView parse(std::string_view text, std::string file);

  bool has(std::string_view key) const;  // present and not null
  template <typename T> T get(std::string_view key) const;
  template <typename T> T get_or(std::string_view key, T fallback) const;
  // A nested object. Absent or null gives an empty view, which is how Hugging Face sub-configs pick up
  // their class defaults. Not an object is an Error.
  ConfigView child(std::string_view key) const;
  // Same view, but `key` aliases: the first present name wins (HF configs renamed fields over time).
  template <typename T> T get_any_or(std::initializer_list<std::string_view> keys, T fallback) const;

  const Json& json() const { return *node_; }
  const std::string& file() const { return file_; }
  std::string where(std::string_view key) const;  // "config.json: text_config.hidden_size"

 private:
  ConfigView(std::shared_ptr<const Json> root, const Json* node, std::string file, std::string prefix);
  [[noreturn]] void type_error(std::string_view key, std::string_view expected) const;
  std::shared_ptr<const Json> root_;
  const Json* node_;
  std::string file_;
  std::string prefix_;
};

// Error "<file>: <key>: must be positive, found <value>" unless value > 0 (a config value already read).
void require_positive(const ConfigView& where, std::string_view key, int64_t value);
// view.get_or(key, fallback), required to be positive (Error naming the key otherwise).
int64_t positive_or(const ConfigView& view, std::string_view key, int64_t fallback);

template <typename T>
T ConfigView::get(std::string_view key) const {
  if (!has(key)) fail("{}: missing required key", where(key));
  const Json& v = (*node_)[std::string(key)];
  try {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) type_error(key, "a boolean");
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) type_error(key, "an integer");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) type_error(key, "a number");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) type_error(key, "a string");
    }
    return v.get<T>();
  } catch (const Json::exception& e) {
    fail("{}: {}", where(key), e.what());
  }
}

template <typename T>
T ConfigView::get_or(std::string_view key, T fallback) const {
  return has(key) ? get<T>(key) : fallback;
}

template <typename T>
T ConfigView::get_any_or(std::initializer_list<std::string_view> keys, T fallback) const {
  for (auto k : keys)
    if (has(k)) return get<T>(k);
  return fallback;
}

}  // namespace vlm
