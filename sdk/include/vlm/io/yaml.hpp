#pragma once
// YAML files (named models, evaluation tasks) read as JSON values, with the line of every node so that
// later checks can name the line they refuse. Scalars become true/false, integers, numbers or strings
// (quoted scalars stay strings); null and empty values become null.
#include <filesystem>
#include <map>
#include <string>

#include "vlm/io/config.hpp"

namespace vlm {

struct YamlDocument {
  std::filesystem::path file;
  OrderedJson value;
  std::map<std::string, int> lines;  // JSON pointer ("/metric_list/0/metric") -> 1-based line
  // "file:line" of the node at `pointer` (its nearest ancestor's line when it has none).
  std::string where(const std::string& pointer) const;
};

// Errors: not a regular file, over 16 MiB, a YAML syntax error (file:line:column), nesting too deep.
YamlDocument load_yaml(const std::filesystem::path& file);

}  // namespace vlm
