#pragma once
// Builds the statement tree from tokens with jinja2's grammar and operator precedence.
#include <memory>
#include <string>
#include <string_view>

#include "jinja_ast.hpp"

namespace vlm::jinja {

// Throws vlm::TemplateError with `origin`, line and column on syntax errors, unknown tags and nesting
// deeper than the engine allows.
std::shared_ptr<const Program> parse_program(std::string_view source, const std::string& origin);

}  // namespace vlm::jinja
