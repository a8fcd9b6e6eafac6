#include "jinja_lexer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "jinja_unicode.hpp"
#include "vlm/text/chat_template.hpp"

namespace vlm::jinja {
namespace {

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || is_ascii_digit(c); }

class Lexer {
 public:
  Lexer(std::string source, std::string origin) : src_(std::move(source)), origin_(std::move(origin)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit_data(src_.substr(pos_), pos_);
        pos_ = src_.size();
        break;
      }
      std::string text = src_.substr(pos_, tag - pos_);
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      size_t after_raw = 0;
      bool raw = kind == '%' && match_raw_begin(tag, &after_raw);
      emit_data(strip_before_tag(std::move(text), sign, kind == '{'), pos_);
      size_t body = tag + 2 + (sign ? 1 : 0);
      if (raw) {
        line_starting_ = src_[after_raw - 1] == '\n';
        lex_raw(after_raw, tag);
      } else if (kind == '#') {
        lex_comment(body, tag);
      } else {
        push(kind == '{' ? TokenType::VariableBegin : TokenType::BlockBegin, "", tag);
        lex_tag(body, kind == '{');
      }
    }
    push(TokenType::End, "", src_.size());
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& message, size_t at) const {
    auto [line, column] = where(at);
    throw TemplateError(message, origin_, line, column);
  }

  std::pair<int, int> where(size_t at) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    size_t line_start = *(it - 1);
    int column = 1 + static_cast<int>(unicode::length(std::string_view(src_).substr(line_start, at - line_start)));
    return {static_cast<int>(it - line_starts_.begin()), column};
  }

  void push(TokenType type, std::string text, size_t at) {
    Token token{type, std::move(text)};
    std::tie(token.line, token.column) = where(at);
    tokens_.push_back(std::move(token));
  }

  void emit_data(std::string text, size_t at) {
    if (!text.empty()) push(TokenType::Data, std::move(text), at);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  bool space_at(size_t i, size_t* width) const {
    if (i >= src_.size()) return false;
    unsigned char c = static_cast<unsigned char>(src_[i]);
    if (c < 0x80) {
      *width = 1;
      return unicode::is_space(c);
    }
    size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    std::u32string cp = unicode::decode(std::string_view(src_).substr(i, n));
    *width = n;
    return cp.size() == 1 && unicode::is_space(cp[0]);
  }

  size_t skip_space(size_t i) const {
    size_t width = 0;
    while (space_at(i, &width)) i += width;
    return i;
  }

  bool starts_with(size_t at, const char* literal) const {
    return src_.compare(at, std::strlen(literal), literal) == 0;
  }

  // lstrip_blocks and `-` before a tag (jinja2's OptionalLStrip).
  std::string strip_before_tag(std::string text, char sign, bool is_variable) const {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        std::u32string cp = unicode::decode(std::string_view(text).substr(start, end - start));
        if (cp.size() != 1 || !unicode::is_space(cp[0])) break;
        end = start;
      }
      text.resize(end);
      return text;
    }
    if (sign == '+' || is_variable) return text;
    size_t line_pos = text.rfind('\n');
    line_pos = line_pos == std::string::npos ? 0 : line_pos + 1;
    if ((line_pos > 0 || line_starting_) && line_pos < text.size()) {
      std::u32string rest = unicode::decode(std::string_view(text).substr(line_pos));
      if (std::all_of(rest.begin(), rest.end(), unicode::is_space)) text.resize(line_pos);
    }
    return text;
  }

  // `{%(-|+|)\s*raw\s*(-%}\s*|%})` at `at`.
  bool match_raw_begin(size_t at, size_t* end) const {
    size_t i = at + 2;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    i = skip_space(i);
    if (!starts_with(i, "raw")) return false;
    i = skip_space(i + 3);
    if (starts_with(i, "-%}")) {
      *end = skip_space(i + 3);
      return true;
    }
    if (starts_with(i, "%}")) {
      *end = i + 2;
      return true;
    }
    return false;
  }

  // Block end `(+%}|-%}\s*|%}\n?)` with trim_blocks; returns the end offset, or npos.
  size_t match_block_end(size_t i) const {
    if (starts_with(i, "+%}")) return i + 3;
    if (starts_with(i, "-%}")) return skip_space(i + 3);
    if (starts_with(i, "%}")) return i + 2 + (i + 2 < src_.size() && src_[i + 2] == '\n' ? 1 : 0);
    return std::string::npos;
  }

  void lex_raw(size_t from, size_t begin) {
    for (size_t i = src_.find("{%", from); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t j = i + 2;
      char sign = 0;
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) sign = src_[j++];
      j = skip_space(j);
      if (!starts_with(j, "endraw")) continue;
      size_t end = match_block_end(skip_space(j + 6));
      if (end == std::string::npos) continue;
      emit_data(strip_before_tag(src_.substr(from, i - from), sign, false), from);
      pos_ = end;
      line_starting_ = src_[end - 1] == '\n';
      return;
    }
    fail("Missing end of raw directive", begin);
  }

  void lex_comment(size_t from, size_t begin) {
    for (size_t i = src_.find('#', from); i != std::string::npos; i = src_.find('#', i + 1)) {
      if (i + 1 >= src_.size() || src_[i + 1] != '}') continue;
      size_t end;
      if (i > from && src_[i - 1] == '+') end = i + 2;
      else if (i > from && src_[i - 1] == '-') end = skip_space(i + 2);
      else end = i + 2 + (i + 2 < src_.size() && src_[i + 2] == '\n' ? 1 : 0);
      pos_ = end;
      line_starting_ = src_[end - 1] == '\n';
      return;
    }
    fail("Missing end of comment tag", begin);
  }

  void lex_tag(size_t i, bool is_variable) {
    std::vector<char> balance;
    for (;;) {
      if (balance.empty()) {
        size_t end = std::string::npos;
        if (is_variable) {
          if (starts_with(i, "-}}")) end = skip_space(i + 3);
          else if (starts_with(i, "}}")) end = i + 2;
        } else {
          end = match_block_end(i);
        }
        if (end != std::string::npos) {
          push(is_variable ? TokenType::VariableEnd : TokenType::BlockEnd, "", i);
          pos_ = end;
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      if (i >= src_.size()) fail("Unexpected end of template inside a tag", i);
      size_t width = 0;
      if (space_at(i, &width)) {
        i = skip_space(i);
        continue;
      }
      if (size_t end = match_float(i); end != std::string::npos) {
        std::string digits;
        for (size_t k = i; k < end; ++k)
          if (src_[k] != '_') digits += src_[k];
        push(TokenType::Float, src_.substr(i, end - i), i);
        tokens_.back().number = std::strtod(digits.c_str(), nullptr);
        i = end;
        continue;
      }
      if (size_t end = match_integer(i); end != std::string::npos) {
        push(TokenType::Integer, src_.substr(i, end - i), i);
        tokens_.back().integer = parse_integer(i, end);
        i = end;
        continue;
      }
      if (is_name_start(src_[i])) {
        size_t end = i;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        push(TokenType::Name, src_.substr(i, end - i), i);
        i = end;
        continue;
      }
      if (src_[i] == '\'' || src_[i] == '"') {
        if (size_t end = match_string(i); end != std::string::npos) {
          push(TokenType::String, unescape(i + 1, end - 1), i);
          i = end;
          continue;
        }
      }
      static const char* const two_char_ops[] = {"//", "**", "==", "!=", ">=", "<="};
      std::string op;
      for (const char* candidate : two_char_ops)
        if (starts_with(i, candidate)) op = candidate;
      if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", src_[i]) && src_[i] != 0) op = std::string(1, src_[i]);
      if (op.empty()) fail(fmt::format("unexpected char '{}'", src_.substr(i, 1)), i);
      if (op == "(" || op == "[" || op == "{") {
        balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
      } else if (op == ")" || op == "]" || op == "}") {
        if (balance.empty()) fail(fmt::format("unexpected '{}'", op), i);
        if (balance.back() != op[0]) fail(fmt::format("unexpected '{}', expected '{}'", op, balance.back()), i);
        balance.pop_back();
      }
      push(TokenType::Operator, op, i);
      i += op.size();
    }
  }

  // (\d+_)*\d+ : digits with single underscores between them.
  size_t match_digits(size_t i) const {
    if (i >= src_.size() || !is_ascii_digit(src_[i])) return std::string::npos;
    while (i < src_.size()) {
      while (i < src_.size() && is_ascii_digit(src_[i])) ++i;
      if (i + 1 < src_.size() && src_[i] == '_' && is_ascii_digit(src_[i + 1])) ++i;
      else break;
    }
    return i;
  }

  size_t match_float(size_t i) const {
    if (i > 0 && src_[i - 1] == '.') return std::string::npos;  // `x.0.1` is item access
    size_t j = match_digits(i);
    if (j == std::string::npos) return j;
    size_t fraction_end = std::string::npos;
    if (j < src_.size() && src_[j] == '.') fraction_end = match_digits(j + 1);
    size_t k = fraction_end != std::string::npos ? fraction_end : j;
    if (k < src_.size() && (src_[k] == 'e' || src_[k] == 'E')) {
      size_t m = k + 1;
      if (m < src_.size() && (src_[m] == '+' || src_[m] == '-')) ++m;
      size_t exponent_end = match_digits(m);
      if (exponent_end != std::string::npos) return exponent_end;
    }
    return fraction_end;
  }

  size_t match_integer(size_t i) const {
    if (i >= src_.size() || !is_ascii_digit(src_[i])) return std::string::npos;
    if (src_[i] == '0' && i + 1 < src_.size()) {
      char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[i + 1])));
      auto allowed = [&](char c) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (prefix == 'b') return c == '0' || c == '1';
        if (prefix == 'o') return c >= '0' && c <= '7';
        return is_ascii_digit(c) || (c >= 'a' && c <= 'f');
      };
      if (prefix == 'b' || prefix == 'o' || prefix == 'x') {
        size_t j = i + 2, end = std::string::npos;
        for (;;) {
          size_t k = j < src_.size() && src_[j] == '_' ? j + 1 : j;
          if (k < src_.size() && allowed(src_[k])) end = j = k + 1;
          else break;
        }
        if (end != std::string::npos) return end;
      }
    }
    if (src_[i] == '0') {  // 0(_?0)*
      size_t j = i + 1;
      for (;;) {
        size_t k = j < src_.size() && src_[j] == '_' ? j + 1 : j;
        if (k < src_.size() && src_[k] == '0') j = k + 1;
        else break;
      }
      return j;
    }
    return match_digits(i);
  }

  int64_t parse_integer(size_t i, size_t end) const {
    std::string digits;
    for (size_t k = i; k < end; ++k)
      if (src_[k] != '_') digits += src_[k];
    int base = 10;
    if (digits.size() > 1 && digits[0] == '0' && std::isalpha(static_cast<unsigned char>(digits[1]))) {
      char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      digits = digits.substr(2);
    }
    errno = 0;
    char* stop = nullptr;
    unsigned long long value = std::strtoull(digits.c_str(), &stop, base);
    if (errno == ERANGE || value > static_cast<unsigned long long>(INT64_MAX))
      fail("integer literal is too large (this engine uses 64-bit integers)", i);
    return static_cast<int64_t>(value);
  }

  size_t match_string(size_t i) const {
    char quote = src_[i];
    for (size_t j = i + 1; j < src_.size(); ++j) {
      if (src_[j] == '\\') ++j;
      else if (src_[j] == quote) return j + 1;
    }
    return std::string::npos;
  }

  // Python's "unicode-escape" decoding of a string literal's body.
  std::string unescape(size_t begin, size_t end) const {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
      char c = src_[i];
      if (c != '\\' || i + 1 >= end) {
        out += c;
        continue;
      }
      char e = src_[++i];
      auto hex = [&](int digits) -> char32_t {
        if (i + digits >= end) fail("truncated escape in string literal", i);
        char32_t value = 0;
        for (int k = 1; k <= digits; ++k) {
          char h = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[i + k])));
          if (!(is_ascii_digit(h) || (h >= 'a' && h <= 'f'))) fail("truncated escape in string literal", i);
          value = value * 16 + static_cast<char32_t>(is_ascii_digit(h) ? h - '0' : h - 'a' + 10);
        }
        i += digits;
        return value;
      };
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': unicode::append(out, hex(2)); break;
        case 'u': unicode::append(out, hex(4)); break;
        case 'U': unicode::append(out, hex(8)); break;
        default:
          if (e >= '0' && e <= '7') {
            char32_t value = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < end && src_[i + 1] >= '0' && src_[i + 1] <= '7'; ++k)
              value = value * 8 + static_cast<char32_t>(src_[++i] - '0');
            unicode::append(out, value);
          } else {
            out += '\\';  // unknown escapes stay as written
            out += e;
          }
      }
    }
    return out;
  }

  std::string src_, origin_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;
};

// jinja2 splits on \r\n, \r and \n, joins with \n and drops one trailing newline.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& origin) {
  return Lexer(normalize_newlines(source), origin).run();
}

}  // namespace vlm::jinja
