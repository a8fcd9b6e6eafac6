#include "json_fields.hpp"

namespace vlm::text_detail {

JsonAt JsonAt::at(std::string_view key) const {
  if (!node.is_object()) fail("{}: expected an object", path);
  auto it = node.find(std::string(key));
  if (it == node.end()) fail("{}: missing required key", key_path(key));
  return {*it, key_path(key)};
}

JsonAt JsonAt::at(std::size_t index) const {
  if (!node.is_array() || index >= node.size()) fail("{}[{}]: missing array element", path, index);
  return {node[index], path + "[" + std::to_string(index) + "]"};
}

bool JsonAt::has(std::string_view key) const {
  if (!node.is_object()) return false;
  auto it = node.find(std::string(key));
  return it != node.end() && !it->is_null();
}

void JsonAt::invalid(std::string_view key, std::string_view expected) const {
  fail("{}: expected {}", key_path(key), expected);
}

std::string JsonAt::string(std::string_view key) const {
  const auto v = at(key);
  if (!v.node.is_string()) invalid(key, "a string");
  return v.node.get<std::string>();
}

std::optional<std::string> JsonAt::optional_string(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return string(key);
}

bool JsonAt::boolean(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto v = at(key);
  if (!v.node.is_boolean()) invalid(key, "a boolean");
  return v.node.get<bool>();
}

int64_t JsonAt::integer(std::string_view key) const {
  const auto v = at(key);
  if (!v.node.is_number_integer()) invalid(key, "an integer");
  return v.node.get<int64_t>();
}

std::optional<int64_t> JsonAt::optional_integer(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return integer(key);
}

double JsonAt::number(std::string_view key) const {
  const auto v = at(key);
  if (!v.node.is_number()) invalid(key, "a number");
  return v.node.get<double>();
}

std::string JsonAt::type() const {
  if (!node.is_object()) fail("{}: expected an object", path);
  return string("type");
}

void JsonAt::unsupported(std::string_view what, std::string_view value) const {
  fail("{} {} \"{}\" is not supported", path, what, value);
}

}  // namespace vlm::text_detail
