#include "vlm/io/yaml.hpp"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "vlm/io/config.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

constexpr int kMaxDepth = 64;

std::string escape_pointer(const std::string& key) {  // RFC 6901: ~ -> ~0, / -> ~1
  std::string out;
  for (const char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

OrderedJson convert(const YAML::Node& node, const std::string& pointer, YamlDocument& doc, int depth) {
  if (depth > kMaxDepth) fail("{}: nested more than {} levels deep", doc.where(pointer), kMaxDepth);
  if (node.Mark().line >= 0) doc.lines[pointer] = node.Mark().line + 1;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      OrderedJson object = OrderedJson::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) fail("{}: a mapping key must be a plain value", doc.where(pointer));
        const std::string key = kv.first.Scalar();
        if (object.contains(key)) fail("{}: key '{}' appears twice", doc.where(pointer), key);
        const std::string child = pointer + "/" + escape_pointer(key);
        if (kv.first.Mark().line >= 0) doc.lines[child] = kv.first.Mark().line + 1;
        object[key] = convert(kv.second, child, doc, depth + 1);
      }
      return object;
    }
    case YAML::NodeType::Sequence: {
      OrderedJson array = OrderedJson::array();
      size_t i = 0;
      for (const auto& item : node) array.push_back(convert(item, pointer + "/" + std::to_string(i++), doc, depth + 1));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: a string whatever it looks like
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      try {
        size_t used = 0;
        const long long i = std::stoll(s, &used);
        if (used == s.size()) return i;
        const double d = std::stod(s, &used);
        if (used == s.size()) return d;
      } catch (...) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace

std::string YamlDocument::where(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    if (auto it = lines.find(p); it != lines.end()) return file.string() + ":" + std::to_string(it->second);
    if (p.empty()) return file.string();
    p = p.substr(0, p.rfind('/'));
  }
}

YamlDocument load_yaml(const std::filesystem::path& file) {
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (error || !std::filesystem::exists(status)) fail("{}: no such file", file.string());
  if (!std::filesystem::is_regular_file(status)) fail("{}: not a regular file", file.string());
  if (std::filesystem::file_size(file, error) > (16u << 20)) fail("{}: larger than 16 MiB", file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open", file.string());
  std::stringstream text;
  text << in.rdbuf();
  check_utf8(text.str(), file.string());  // yaml-cpp passes invalid bytes through into strings
  YamlDocument doc;
  doc.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: {}", file.string(), e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  doc.value = convert(root, "", doc, 0);
  return doc;
}

}  // namespace vlm
