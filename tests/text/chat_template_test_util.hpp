#pragma once
// Helpers shared by the chat-template tests.
#include <fstream>
#include <sstream>
#include <string>

#include "vlm/text/chat_template.hpp"

namespace vlm::test {

// Renders `source` with `context` (JSON text) as a fresh template.
inline std::string render(const std::string& source, const std::string& context = "{}") {
  return ChatTemplate::parse(source, "test").render(OrderedJson::parse(context));
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace vlm::test
