#include "jinja_operators.hpp"

#include <cmath>

#include "jinja_builtins.hpp"
#include "jinja_pyformat.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {
namespace {

const char* symbol(BinaryExpr::Op op) {
  switch (op) {
    case BinaryExpr::Op::Add: return "+";
    case BinaryExpr::Op::Subtract: return "-";
    case BinaryExpr::Op::Multiply: return "*";
    case BinaryExpr::Op::Divide: return "/";
    case BinaryExpr::Op::FloorDivide: return "//";
    case BinaryExpr::Op::Modulo: return "%";
    case BinaryExpr::Op::Power: return "** or pow()";
    default: return "?";
  }
}

[[noreturn]] void unsupported(BinaryExpr::Op op, const Value& a, const Value& b) {
  if (op == BinaryExpr::Op::Add && a.is_string())
    render_fail("can only concatenate str (not \"{}\") to str", type_name(b));
  if (op == BinaryExpr::Op::Add && a.is_list())
    render_fail("can only concatenate list (not \"{}\") to list", type_name(b));
  render_fail("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op), type_name(a), type_name(b));
}

[[noreturn]] void overflow() { render_fail("integer overflow (this engine computes with 64-bit integers)"); }

int64_t checked_add(int64_t x, int64_t y) {
  int64_t r;
  if (__builtin_add_overflow(x, y, &r)) overflow();
  return r;
}

int64_t checked_sub(int64_t x, int64_t y) {
  int64_t r;
  if (__builtin_sub_overflow(x, y, &r)) overflow();
  return r;
}

int64_t checked_mul(int64_t x, int64_t y) {
  int64_t r;
  if (__builtin_mul_overflow(x, y, &r)) overflow();
  return r;
}

// CPython's float floor division and modulo.
std::pair<double, double> float_divmod(double x, double y) {
  if (y == 0.0) render_fail("float division by zero");
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return {floordiv, mod};
}

Value repeat(const Value& sequence, int64_t times) {
  if (times < 0) times = 0;
  if (sequence.is_string()) {
    const std::string& s = sequence.as_string();
    if (!s.empty() && times > kMaxRepeat / static_cast<int64_t>(s.size())) render_fail("repeated string is too long");
    std::string out;
    out.reserve(s.size() * times);
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  const auto& items = sequence.seq().items;
  if (!items.empty() && times > kMaxRepeat / static_cast<int64_t>(items.size())) render_fail("repeated list is too long");
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::sequence(std::move(out), sequence.seq().kind);
}

bool is_repeatable(const Value& v) {
  return v.is_string() || (v.is_sequence() && v.seq().kind != SeqKind::Generator);
}

Value integer_power(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 0) render_fail("0.0 cannot be raised to a negative power");
    return Value(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  }
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = checked_mul(result, base);
    exponent >>= 1;
    if (exponent > 0) base = checked_mul(base, base);
  }
  return Value(result);
}

}  // namespace

Value arithmetic(BinaryExpr::Op op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  using Op = BinaryExpr::Op;
  if (a.is_number() && b.is_number()) {
    bool floating = a.is_float() || b.is_float();
    int64_t x = floating ? 0 : a.as_int(), y = floating ? 0 : b.as_int(), r;
    double fx = a.as_float(), fy = b.as_float();
    switch (op) {
      case Op::Add: return floating ? Value(fx + fy) : Value(checked_add(x, y));
      case Op::Subtract: return floating ? Value(fx - fy) : Value(checked_sub(x, y));
      case Op::Multiply: return floating ? Value(fx * fy) : Value(checked_mul(x, y));
      case Op::Divide:
        if (fy == 0.0) render_fail("division by zero");
        return Value(fx / fy);
      case Op::FloorDivide:
        if (floating) return Value(float_divmod(fx, fy).first);
        if (y == 0) render_fail("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) overflow();
        return Value(x / y - ((x % y != 0) && ((x < 0) != (y < 0)) ? 1 : 0));
      case Op::Modulo:
        if (floating) return Value(float_divmod(fx, fy).second);
        if (y == 0) render_fail("integer division or modulo by zero");
        if (y == -1) return Value(int64_t{0});
        r = x % y;
        return Value(r != 0 && ((r < 0) != (y < 0)) ? r + y : r);
      case Op::Power:
        if (!floating) return integer_power(x, y);
        if (fx == 0.0 && fy < 0) render_fail("0.0 cannot be raised to a negative power");
        return Value(std::pow(fx, fy));
      default: break;
    }
  }
  switch (op) {
    case Op::Add:
      if (a.is_string() && b.is_string()) {
        check_string_size(a.as_string().size() + b.as_string().size());
        return Value(a.as_string() + b.as_string());
      }
      if (a.is_sequence() && b.is_sequence() && a.seq().kind == b.seq().kind && a.seq().kind != SeqKind::Generator) {
        std::vector<Value> items = a.seq().items;
        items.insert(items.end(), b.seq().items.begin(), b.seq().items.end());
        return Value::sequence(std::move(items), a.seq().kind);
      }
      break;
    case Op::Multiply:
      if (is_repeatable(a) && b.is_integral()) return repeat(a, b.as_int());
      if (a.is_integral() && is_repeatable(b)) return repeat(b, a.as_int());
      break;
    case Op::Modulo:
      if (a.is_string()) return Value(percent_format(a.as_string(), b));
      break;
    default: break;
  }
  unsupported(op, a, b);
}

Value negate(const Value& v, bool minus) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return Value(minus ? -v.as_float() : v.as_float());
  if (v.is_integral()) {
    if (minus && v.as_int() == INT64_MIN) render_fail("integer overflow (this engine computes with 64-bit integers)");
    return Value(minus ? -v.as_int() : v.as_int());
  }
  render_fail("bad operand type for unary {}: '{}'", minus ? '-' : '+', type_name(v));
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::Undefined: return false;  // iterating an undefined value yields nothing
    case Value::Kind::String:
      if (!item.is_string()) render_fail("'in <string>' requires string as left operand, not {}", type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::Sequence:
      for (const Value& v : container.seq().items)
        if (equals(v, item)) return true;
      return false;
    case Value::Kind::Dict: return container.dict().find(item) != nullptr;
    default: render_fail("argument of type '{}' is not iterable", type_name(container));
  }
}

bool compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::Equal: return equals(a, b);
    case CompareOp::NotEqual: return !equals(a, b);
    case CompareOp::Less: return less(a, b);
    case CompareOp::Greater: return less(b, a);
    case CompareOp::LessEqual: return less(a, b) || equals(a, b);
    case CompareOp::GreaterEqual: return less(b, a) || equals(a, b);
    case CompareOp::In: return contains(b, a);
    case CompareOp::NotIn: return !contains(b, a);
  }
  return false;
}

namespace {

Value missing_attribute(const Value& object, const std::string& name) {
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(object), name));
}

// getattr(obj, name) of Python, with the sandbox's refusal of private names; nullopt when absent.
std::optional<Value> python_getattr(const Value& object, const std::string& name) {
  if (!name.empty() && name[0] == '_') return std::nullopt;  // the sandbox hides private attributes
  if (object.is_object()) return object.object()->attribute(name);
  return python_method(object, name);
}

std::optional<Value> python_getitem(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Value::Kind::Dict:
      if (const Value* v = object.dict().find(key)) return *v;
      return std::nullopt;
    case Value::Kind::Sequence:
    case Value::Kind::String: {
      if (!key.is_integral() || (object.is_sequence() && object.seq().kind == SeqKind::Generator)) return std::nullopt;
      int64_t n = *length(object), i = key.as_int();
      if (i < 0) i += n;
      if (i < 0 || i >= n) return std::nullopt;
      if (object.is_sequence()) return object.seq().items[i];
      std::u32string text = unicode::decode(object.as_string());
      return Value(unicode::encode(text.substr(i, 1)));
    }
    default: return std::nullopt;
  }
}

}  // namespace

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) fail_undefined(object);
  if (auto attr = python_getattr(object, name)) return *attr;
  if (auto item = python_getitem(object, Value(name))) return *item;
  return missing_attribute(object, name);
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) fail_undefined(object);
  if (auto item = python_getitem(object, key)) return *item;
  if (key.is_string()) {
    if (auto attr = python_getattr(object, key.as_string())) return *attr;
    return missing_attribute(object, key.as_string());
  }
  return Value::undefined(fmt::format("{} has no element {}", object_type_repr(object), repr(key)));
}

Value slice(const Value& object, const Value& start_value, const Value& stop_value, const Value& step_value) {
  if (object.is_undefined()) fail_undefined(object);
  auto bound = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (!v.is_integral()) render_fail("slice {} must be an integer or None, not {}", what, type_name(v));
    return v.as_int();
  };
  if (!(object.is_string() || (object.is_sequence() && object.seq().kind != SeqKind::Generator)))
    return Value::undefined(fmt::format("{} has no element slice", object_type_repr(object)));
  std::optional<int64_t> start = bound(start_value, "indices"), stop = bound(stop_value, "indices"),
                         step_opt = bound(step_value, "indices");
  int64_t step = step_opt.value_or(1);
  if (step == 0) render_fail("slice step cannot be zero");
  int64_t n = *length(object);
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t i = *v;
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t first = adjust(start, step < 0 ? n - 1 : 0), last = adjust(stop, step < 0 ? -1 : n);
  std::vector<int64_t> indices;
  for (int64_t i = first; step > 0 ? i < last : i > last; i += step) indices.push_back(i);
  if (object.is_string()) {
    std::u32string text = unicode::decode(object.as_string()), out;
    for (int64_t i : indices) out.push_back(text[i]);
    return Value(unicode::encode(out));
  }
  std::vector<Value> out;
  for (int64_t i : indices) out.push_back(object.seq().items[i]);
  return Value::sequence(std::move(out), object.seq().kind);
}

}  // namespace vlm::jinja
