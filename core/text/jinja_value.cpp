#include "jinja_value.hpp"

#include <cmath>

#include "jinja_pyformat.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {

// ---- containers -------------------------------------------------------------------------------------

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : entries)
    if (equals(k, key)) return &v;
  return nullptr;
}

void Dict::set(const Value& key, Value value) {
  for (auto& [k, v] : entries)
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  entries.emplace_back(key, std::move(value));
}

const Value* CallArgs::keyword(std::string_view name) const {
  for (const auto& [k, v] : keywords)
    if (k == name) return &v;
  return nullptr;
}

std::optional<Value> Object::attribute(const std::string&) const { return std::nullopt; }

Value Object::call(CallArgs&, Interpreter&) const { render_fail("'{}' object is not callable", type_name()); }

// ---- construction and access ------------------------------------------------------------------------

void check_string_size(size_t size) {
  if (size > kMaxStringBytes)
    render_fail("a string of {} bytes is too long: the template sandbox allows {} MiB", size, kMaxStringBytes >> 20);
}

Value Value::undefined(std::string message) {
  Value v;
  v.text_ = std::make_shared<const std::string>(std::move(message));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value::Value(std::string s) : kind_(Kind::String), text_(std::make_shared<const std::string>(std::move(s))) {}

Value::Value(std::shared_ptr<Object> object) : kind_(Kind::Object), object_(std::move(object)) {}

Value Value::sequence(std::vector<Value> items, SeqKind kind) {
  Value v;
  v.kind_ = Kind::Sequence;
  v.seq_ = std::make_shared<Sequence>(Sequence{kind, std::move(items)});
  return v;
}

Value Value::make_dict(Dict dict) {
  Value v;
  v.kind_ = Kind::Dict;
  v.dict_ = std::make_shared<Dict>(std::move(dict));
  return v;
}

int64_t Value::as_int() const { return int_; }

double Value::as_float() const { return kind_ == Kind::Float ? float_ : static_cast<double>(int_); }

const std::string& Value::undefined_message() const {
  static const std::string fallback = "value is undefined";
  return text_ ? *text_ : fallback;
}

bool Value::identical(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::Undefined: return text_ == other.text_;
    case Kind::None: return true;
    case Kind::Bool: return int_ == other.int_;
    case Kind::Int: return int_ == other.int_ && int_ >= -5 && int_ <= 256;  // CPython's cached ints
    case Kind::Float: return float_ == other.float_;
    case Kind::String: return *text_ == *other.text_;  // literals are interned
    case Kind::Sequence: return seq_ == other.seq_;
    case Kind::Dict: return dict_ == other.dict_;
    case Kind::Object: return object_ == other.object_;
  }
  return false;
}

// ---- Python builtins --------------------------------------------------------------------------------

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool:
    case Value::Kind::Int: return v.as_int() != 0;
    case Value::Kind::Float: return v.as_float() != 0.0;
    case Value::Kind::String: return !v.as_string().empty();
    case Value::Kind::Sequence: return v.seq().kind == SeqKind::Generator || !v.seq().items.empty();
    case Value::Kind::Dict: return !v.dict().entries.empty();
    case Value::Kind::Object: return true;
  }
  return false;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "NoneType";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Sequence:
      switch (v.seq().kind) {
        case SeqKind::List: return "list";
        case SeqKind::Tuple: return "tuple";
        case SeqKind::Generator: return "generator";
      }
      return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Object: return v.object()->type_name();
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_undefined()) return "jinja2.runtime.Undefined object";
  return type_name(v) + " object";
}

static std::string string_repr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : unicode::decode(s)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (!unicode::is_printable(c)) {
      if (c < 0x100) out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
      else if (c < 0x10000) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
      else out += fmt::format("\\U{:08x}", static_cast<unsigned>(c));
    } else {
      unicode::append(out, c);
    }
  }
  out += quote;
  return out;
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.as_bool() ? "True" : "False";
    case Value::Kind::Int: return std::to_string(v.as_int());
    case Value::Kind::Float: return float_repr(v.as_float());
    case Value::Kind::String: return v.as_string();
    default: return repr(v);
  }
}

std::string repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::String: return string_repr(v.as_string());
    case Value::Kind::Sequence: {
      const Sequence& s = v.seq();
      if (s.kind == SeqKind::Generator) return "<generator object>";
      std::string out = s.kind == SeqKind::Tuple ? "(" : "[";
      for (size_t i = 0; i < s.items.size(); ++i) {
        if (i) out += ", ";
        out += repr(s.items[i]);
      }
      if (s.kind == SeqKind::Tuple && s.items.size() == 1) out += ',';
      out += s.kind == SeqKind::Tuple ? ")" : "]";
      return out;
    }
    case Value::Kind::Dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.dict().entries) {
        if (!first) out += ", ";
        first = false;
        out += repr(k) + ": " + repr(val);
      }
      return out + "}";
    }
    case Value::Kind::Object: return v.object()->repr();
    default: return to_str(v);
  }
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.as_string() == b.as_string();
    case Value::Kind::Sequence: {
      const Sequence &x = a.seq(), &y = b.seq();
      if (x.kind == SeqKind::Generator || y.kind == SeqKind::Generator) return &x == &y;
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals(x.items[i], y.items[i])) return false;
      return true;
    }
    case Value::Kind::Dict: {
      const Dict &x = a.dict(), &y = b.dict();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, val] : x.entries) {
        const Value* other = y.find(k);
        if (!other || !equals(val, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Object: return a.object() == b.object();
    default: return false;
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 keeps code point order
  if (a.is_sequence() && b.is_sequence() && a.seq().kind == b.seq().kind && a.seq().kind != SeqKind::Generator) {
    const auto &x = a.seq().items, &y = b.seq().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equals(x[i], y[i])) return less(x[i], y[i]);
    return x.size() < y.size();
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  render_fail("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b));
}

std::optional<int64_t> length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return static_cast<int64_t>(unicode::length(v.as_string()));
    case Value::Kind::Sequence:
      if (v.seq().kind == SeqKind::Generator) return std::nullopt;
      return static_cast<int64_t>(v.seq().items.size());
    case Value::Kind::Dict: return static_cast<int64_t>(v.dict().entries.size());
    default: return std::nullopt;
  }
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::String: {
      std::vector<Value> out;
      for (char32_t c : unicode::decode(v.as_string())) out.emplace_back(unicode::encode(std::u32string(1, c)));
      return out;
    }
    case Value::Kind::Sequence: return v.seq().items;
    case Value::Kind::Dict: {
      std::vector<Value> out;
      out.reserve(v.dict().entries.size());
      for (const auto& entry : v.dict().entries) out.push_back(entry.first);
      return out;
    }
    default: render_fail("'{}' object is not iterable", type_name(v));
  }
}

void fail_undefined(const Value& v) { throw RenderFailure(v.undefined_message()); }

Value from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = json.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return Value::sequence(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict dict;
      dict.entries.reserve(json.size());
      for (const auto& [key, item] : json.items()) dict.entries.emplace_back(Value(key), from_json(item));
      return Value::make_dict(std::move(dict));
    }
    default: return Value::none();  // binary and discarded values do not occur in templates' inputs
  }
}

}  // namespace vlm::jinja
