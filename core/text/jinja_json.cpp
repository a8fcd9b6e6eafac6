// json.dumps as HF's tojson filter calls it (ensure_ascii=False by default, optional indent, separators
// and sort_keys), byte-compatible with Python's json module.
#include <algorithm>
#include <cmath>

#include "jinja_builtins.hpp"
#include "jinja_pyformat.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {
namespace {

constexpr int kMaxDepth = 500;  // deeper nesting is refused (Python raises RecursionError)

void append_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : unicode::decode(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
          if (c >= 0x10000) {  // a surrogate pair, as Python writes it
            char32_t v = c - 0x10000;
            out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
          } else {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
          }
        } else {
          unicode::append(out, c);
        }
    }
  }
  out += '"';
}

std::string float_json(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return float_repr(f);
}

// Python converts these key types to strings; anything else is a TypeError.
std::string key_text(const Value& key) {
  switch (key.kind()) {
    case Value::Kind::String: return key.as_string();
    case Value::Kind::Bool: return key.as_bool() ? "true" : "false";
    case Value::Kind::Int: return std::to_string(key.as_int());
    case Value::Kind::Float: return float_json(key.as_float());
    case Value::Kind::None: return "null";
    default: render_fail("keys must be str, int, float, bool or None, not {}", type_name(key));
  }
}

class Writer {
 public:
  explicit Writer(const JsonStyle& style) : style_(style) {}

  void write(const Value& v, int depth) {
    if (depth > kMaxDepth) render_fail("maximum recursion depth exceeded while encoding a JSON object");
    switch (v.kind()) {
      case Value::Kind::None: out += "null"; return;
      case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Kind::Int: out += std::to_string(v.as_int()); return;
      case Value::Kind::Float: out += float_json(v.as_float()); return;
      case Value::Kind::String: append_string(out, v.as_string(), style_.ensure_ascii); return;
      case Value::Kind::Sequence:
        if (v.seq().kind != SeqKind::Generator) {
          write_array(v.seq().items, depth);
          return;
        }
        break;
      case Value::Kind::Dict: write_object(v.dict(), depth); return;
      default: break;
    }
    render_fail("Object of type {} is not JSON serializable", type_name(v));
  }

  std::string out;

 private:
  void newline(int depth) {
    if (!style_.indent) return;
    out += '\n';
    for (int i = 0; i < depth; ++i) out += *style_.indent;
  }

  void write_array(const std::vector<Value>& items, int depth) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += style_.item_separator;
      newline(depth + 1);
      write(items[i], depth + 1);
    }
    newline(depth);
    out += ']';
  }

  void write_object(const Dict& dict, int depth) {
    if (dict.entries.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& entry : dict.entries) entries.push_back(&entry);
    if (style_.sort_keys)
      std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return less(a->first, b->first); });
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += style_.item_separator;
      newline(depth + 1);
      append_string(out, key_text(entries[i]->first), style_.ensure_ascii);
      out += style_.key_separator;
      write(entries[i]->second, depth + 1);
    }
    newline(depth);
    out += '}';
  }

  const JsonStyle& style_;
};

}  // namespace

std::string to_json(const Value& value, const JsonStyle& style) {
  Writer writer(style);
  writer.write(value, 0);
  return std::move(writer.out);
}

}  // namespace vlm::jinja
