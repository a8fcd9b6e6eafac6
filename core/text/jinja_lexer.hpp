#pragma once
// Splits template source into tokens exactly where jinja2's lexer does under Hugging Face's settings:
// trim_blocks and lstrip_blocks on, `-` and `+` whitespace control, raw blocks, comments dropped,
// newlines normalised to "\n" and one trailing newline removed (keep_trailing_newline=False).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vlm::jinja {

enum class TokenType { Data, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End };

struct Token {
  TokenType type;
  std::string text;  // data, name, operator, or a string literal's unescaped value
  int64_t integer = 0;
  double number = 0;
  int line = 1, column = 1;
};

// Throws vlm::TemplateError naming `origin`, line and column.
std::vector<Token> tokenize(std::string_view source, const std::string& origin);

}  // namespace vlm::jinja
