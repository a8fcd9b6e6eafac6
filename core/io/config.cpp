#include "vlm/io/config.hpp"

#include <fstream>
#include <sstream>

#include "../text/utf8.hpp"

namespace vlm {

namespace {
const Json& empty_object() {
  static const Json empty = Json::object();
  return empty;
}
}  // namespace

ConfigView::ConfigView() : root_(nullptr), node_(&empty_object()), file_("<none>") {}

ConfigView::ConfigView(std::shared_ptr<const Json> root, std::string file)
    : root_(std::move(root)), node_(root_.get()), file_(std::move(file)) {}

ConfigView::ConfigView(std::shared_ptr<const Json> root, const Json* node, std::string file, std::string prefix)
    : root_(std::move(root)), node_(node), file_(std::move(file)), prefix_(std::move(prefix)) {}

ConfigView ConfigView::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path.string());  // the full path: errors must say which checkpoint
}

void check_json_depth(std::string_view text, std::string_view where) {
  int depth = 0;
  size_t line = 1;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) fail("{}: JSON nested deeper than {} levels (line {})", where, kMaxJsonDepth, line);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

void check_utf8(std::string_view text, std::string_view where) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\n') ++line;
    const size_t length = text_detail::valid_sequence_length(text, i);
    if (length == 0)
      fail("{}:{}: invalid UTF-8 (byte 0x{:02X} at offset {}); text files must be UTF-8", where, line,
           static_cast<unsigned char>(text[i]), i);
    i += length;
  }
}

ConfigView ConfigView::parse(std::string_view text, std::string file) {
  check_json_depth(text, file);
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // Byte offset -> line and column, so the user can find the typo.
    const size_t offset = std::min(e.byte ? e.byte - 1 : 0, text.size());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') { ++line; column = 1; } else { ++column; }
    }
    fail("{}:{}:{}: invalid JSON ({})", file, line, column, e.what());
  } catch (const Json::exception& e) {  // out_of_range: a number like 1e999
    fail("{}: invalid JSON ({})", file, e.what());
  }
  if (!json.is_object()) fail("{}: expected a JSON object at the top level", file);
  return ConfigView(std::make_shared<const Json>(std::move(json)), std::move(file));
}

bool ConfigView::has(std::string_view key) const {
  auto it = node_->find(std::string(key));
  return it != node_->end() && !it->is_null();
}

ConfigView ConfigView::child(std::string_view key) const {
  const std::string path = prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  if (!has(key)) return ConfigView(root_, &empty_object(), file_, path);
  const Json& v = (*node_)[std::string(key)];
  if (!v.is_object()) type_error(key, "an object");
  return ConfigView(root_, &v, file_, path);
}

void require_positive(const ConfigView& where, std::string_view key, int64_t value) {
  if (value <= 0) fail("{}: must be positive, found {}", where.where(key), value);
}

int64_t positive_or(const ConfigView& view, std::string_view key, int64_t fallback) {
  const int64_t value = view.get_or(key, fallback);
  require_positive(view, key, value);
  return value;
}

std::string ConfigView::where(std::string_view key) const {
  return prefix_.empty() ? fmt::format("{}: {}", file_, key) : fmt::format("{}: {}.{}", file_, prefix_, key);
}

void ConfigView::type_error(std::string_view key, std::string_view expected) const {
  fail("{}: expected {}, found {}", where(key), expected, (*node_)[std::string(key)].dump());
}

}  // namespace vlm
