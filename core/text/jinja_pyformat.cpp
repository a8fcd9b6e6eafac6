#include "jinja_pyformat.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "jinja_unicode.hpp"

namespace vlm::jinja {

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, result.ptr);  // shortest round-trip digits, e.g. "-1.5e-05"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e_pos = sci.find('e');
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int n = static_cast<int>(digits.size());
  int point = exponent + 1;  // digits are 0.d1d2... x 10^point
  // CPython's repr switches to exponent notation outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    return out + fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  if (point <= 0) return sign + "0." + std::string(-point, '0') + digits;
  if (point < n) return sign + digits.substr(0, point) + "." + digits.substr(point);
  return sign + digits + std::string(point - n, '0') + ".0";
}

namespace {

// Widths and precisions beyond this are refused (Python would build the string; no template needs it).
constexpr int kMaxFormatWidth = 1'000'000;

// A width or precision written in a format: digits (or a '*' argument), at most kMaxFormatWidth.
int format_number(const std::string& digits) {
  if (digits.empty()) return 0;
  if (digits.size() > 7 || std::abs(std::stoll(digits)) > kMaxFormatWidth)
    render_fail("format width or precision {} is too large (at most {})", digits, kMaxFormatWidth);
  return static_cast<int>(std::stoll(digits));
}

// Pads `text` to `width` code points.
std::string pad(const std::string& text, int width, char align, char32_t fill = ' ') {
  int len = static_cast<int>(unicode::length(text));
  if (width <= len) return text;
  int total = width - len;
  int left = align == '<' ? 0 : align == '^' ? total / 2 : total;
  std::string l, r;
  for (int i = 0; i < left; ++i) unicode::append(l, fill);
  for (int i = 0; i < total - left; ++i) unicode::append(r, fill);
  return l + text + r;
}

std::string c_format(const std::string& spec, double value) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, spec.c_str(), value);
  if (n < 0 || n >= static_cast<int>(sizeof buf)) render_fail("formatted number is too long");
  return buf;
}

std::string c_format_int(const std::string& spec, long long value) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, spec.c_str(), value);
  if (n < 0 || n >= static_cast<int>(sizeof buf)) render_fail("formatted number is too long");
  return buf;
}

double number_arg(const Value& v, char conversion) {
  if (v.is_number()) return v.as_float();
  render_fail("%{} format: a real number is required, not {}", conversion, type_name(v));
}

}  // namespace

std::string percent_format(const std::string& format, const Value& args) {
  std::vector<Value> positional;
  const Dict* mapping = nullptr;
  if (args.is_sequence() && args.seq().kind == SeqKind::Tuple) positional = args.seq().items;
  else positional.push_back(args);
  if (args.is_dict()) mapping = &args.dict();
  size_t next = 0;
  bool used_mapping = false;
  auto next_arg = [&]() -> Value {
    if (next >= positional.size()) render_fail("not enough arguments for format string");
    return positional[next++];
  };

  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) render_fail("incomplete format");
    Value key_value;
    bool keyed = false;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos) render_fail("incomplete format key");
      if (!mapping) render_fail("format requires a mapping");
      const Value* found = mapping->find(Value(format.substr(i + 1, close - i - 1)));
      if (!found) render_fail("KeyError: {}", repr(Value(format.substr(i + 1, close - i - 1))));
      key_value = *found;
      keyed = used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string("-+ #0").find(format[i]) != std::string::npos) flags += format[i++];
    std::string width, precision;
    bool has_precision = false;
    if (i < format.size() && format[i] == '*') {
      width = std::to_string(next_arg().as_int());
      ++i;
    }
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) width += format[i++];
    format_number(width);
    if (i < format.size() && format[i] == '.') {
      has_precision = true;
      ++i;
      if (i < format.size() && format[i] == '*') {
        precision = std::to_string(next_arg().as_int());
        ++i;
      }
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) precision += format[i++];
      format_number(precision);
    }
    while (i < format.size() && (format[i] == 'l' || format[i] == 'h' || format[i] == 'L')) ++i;
    if (i >= format.size()) render_fail("incomplete format");
    char conversion = format[i];
    if (conversion == '%') {
      out += '%';
      continue;
    }
    Value arg = keyed ? key_value : next_arg();
    std::string spec = "%" + flags + width + (has_precision ? "." + (precision.empty() ? "0" : precision) : "");
    switch (conversion) {
      case 's':
      case 'r':
      case 'a': {
        std::string text = conversion == 's' ? to_str(arg) : repr(arg);
        if (has_precision) {
          std::u32string t = unicode::decode(text);
          const size_t keep = static_cast<size_t>(std::max(0, format_number(precision)));
          if (t.size() > keep) text = unicode::encode(t.substr(0, keep));
        }
        out += pad(text, format_number(width), flags.find('-') != std::string::npos ? '<' : '>');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        double number = number_arg(arg, conversion);
        long long integer = arg.is_float() ? static_cast<long long>(std::trunc(number)) : arg.as_int();
        if ((conversion == 'x' || conversion == 'X' || conversion == 'o') && arg.is_float())
          render_fail("%{} format: an integer is required, not float", conversion);
        char c = conversion == 'i' || conversion == 'u' ? 'd' : conversion;
        out += c_format_int(spec + "ll" + c, integer);
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': out += c_format(spec + conversion, number_arg(arg, conversion)); break;
      case 'c': {
        if (arg.is_string() && unicode::length(arg.as_string()) == 1) out += arg.as_string();
        else if (arg.is_integral()) unicode::append(out, static_cast<char32_t>(arg.as_int()));
        else render_fail("%c requires int or char");
        break;
      }
      default: render_fail("unsupported format character '{}'", conversion);
    }
  }
  if (!used_mapping && !mapping && next < positional.size())
    render_fail("not all arguments converted during string formatting");
  return out;
}

namespace {

struct FormatSpec {
  char32_t fill = ' ';
  char align = 0;
  char sign = '-';
  bool alternate = false, zero = false, grouping = false;
  int width = 0, precision = -1;
  char type = 0;
};

FormatSpec parse_spec(const std::string& text) {
  FormatSpec spec;
  std::u32string s = unicode::decode(text);
  size_t i = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    spec.fill = s[0];
    spec.align = static_cast<char>(s[1]);
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = static_cast<char>(s[0]);
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = static_cast<char>(s[i++]);
  if (i < s.size() && s[i] == '#') spec.alternate = (++i, true);
  if (i < s.size() && s[i] == '0') spec.zero = (++i, true);
  auto digit = [&](int& value) {
    value = value * 10 + static_cast<int>(s[i++] - '0');
    if (value > kMaxFormatWidth) render_fail("format width or precision is too large (at most {})", kMaxFormatWidth);
  };
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') digit(spec.width);
  if (i < s.size() && s[i] == ',') spec.grouping = (++i, true);
  if (i < s.size() && s[i] == '.') {
    ++i;
    spec.precision = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') digit(spec.precision);
  }
  if (i < s.size()) spec.type = static_cast<char>(s[i++]);
  if (i != s.size()) render_fail("Invalid format specifier '{}'", text);
  return spec;
}

std::string group_thousands(const std::string& digits) {
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i-- > 0;) {
    out.insert(out.begin(), digits[i]);
    if (++count % 3 == 0 && i > 0) out.insert(out.begin(), ',');
  }
  return out;
}

std::string format_with_spec(const Value& v, const std::string& spec_text) {
  if (spec_text.empty()) return to_str(v);
  FormatSpec spec = parse_spec(spec_text);
  std::string body, sign;
  bool numeric = v.is_number();
  if (v.is_string() || (!numeric && (spec.type == 0 || spec.type == 's'))) {
    if (spec.type != 0 && spec.type != 's') render_fail("Unknown format code '{}' for object of type 'str'", spec.type);
    body = to_str(v);
    if (spec.precision >= 0) {
      std::u32string t = unicode::decode(body);
      if (t.size() > static_cast<size_t>(spec.precision)) body = unicode::encode(t.substr(0, spec.precision));
    }
    return pad(body, spec.width, spec.align ? spec.align : '<', spec.fill);
  }
  if (!numeric) render_fail("unsupported format string passed to {}.__format__", type_name(v));
  double number = v.as_float();
  bool negative = v.is_float() ? std::signbit(number) : v.as_int() < 0;
  char type = spec.type;
  if (type == 0 && v.is_float()) type = spec.precision >= 0 ? 'g' : 'r';
  if (type == 0) type = 'd';
  switch (type) {
    case 'd':
    case 'n':
      if (v.is_float()) render_fail("Unknown format code 'd' for object of type 'float'");
      body = std::to_string(v.as_int() < 0 ? -static_cast<unsigned long long>(v.as_int()) : v.as_int());
      if (spec.grouping) body = group_thousands(body);
      break;
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      if (v.is_float()) render_fail("Unknown format code '{}' for object of type 'float'", type);
      unsigned long long magnitude = v.as_int() < 0 ? -static_cast<unsigned long long>(v.as_int()) : v.as_int();
      int base = type == 'o' ? 8 : type == 'b' ? 2 : 16;
      do {
        int digit = static_cast<int>(magnitude % base);
        body.insert(body.begin(), static_cast<char>(digit < 10 ? '0' + digit : (type == 'X' ? 'A' : 'a') + digit - 10));
        magnitude /= base;
      } while (magnitude);
      if (spec.alternate) body = std::string("0") + (type == 'o' ? 'o' : type == 'b' ? 'b' : type) + body;
      break;
    }
    case 'c': unicode::append(body, static_cast<char32_t>(v.as_int())); break;
    case 'r': body = float_repr(std::fabs(number)); break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case '%': {
      double magnitude = std::fabs(number);
      int precision = spec.precision < 0 ? 6 : spec.precision;
      if (type == '%') body = c_format(fmt::format("%.{}f", precision), magnitude * 100) + "%";
      else body = c_format(fmt::format("%{}.{}{}", spec.alternate ? "#" : "", precision, type), magnitude);
      if (spec.grouping) {
        size_t end = body.find_first_not_of("0123456789");
        body = group_thousands(body.substr(0, end)) + (end == std::string::npos ? "" : body.substr(end));
      }
      break;
    }
    default: render_fail("Unknown format code '{}' for object of type '{}'", type, type_name(v));
  }
  if (negative) sign = "-";
  else if (spec.sign == '+') sign = "+";
  else if (spec.sign == ' ') sign = " ";
  char align = spec.align ? spec.align : (spec.zero ? '=' : '>');
  char32_t fill = spec.zero && !spec.align ? U'0' : spec.fill;
  if (align == '=') {
    int len = static_cast<int>(unicode::length(sign + body));
    std::string filler;
    for (int i = len; i < spec.width; ++i) unicode::append(filler, fill);
    return sign + filler + body;
  }
  return pad(sign + body, spec.width, align, fill);
}

}  // namespace

std::string brace_format(const std::string& format, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      render_fail("Single '}}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = format.find('}', i);
    if (close == std::string::npos) render_fail("Single '{{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conversion;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    Value arg;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      size_t index = field.empty() ? auto_index++ : std::stoul(field);
      if (index >= args.positional.size())
        render_fail("Replacement index {} out of range for positional args tuple", index);
      arg = args.positional[index];
    } else {
      const Value* found = args.keyword(field);
      if (!found) render_fail("KeyError: '{}'", field);
      arg = *found;
    }
    if (conversion == "r") arg = Value(repr(arg));
    else if (conversion == "s") arg = Value(to_str(arg));
    else if (!conversion.empty()) render_fail("Unknown conversion specifier {}", conversion);
    out += format_with_spec(arg, spec);
  }
  return out;
}

}  // namespace vlm::jinja
