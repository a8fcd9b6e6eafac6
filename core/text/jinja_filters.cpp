// The builtin filters of jinja2 (filters.py) with HF's tojson in place of jinja2's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "jinja_builtins.hpp"
#include "jinja_interpreter.hpp"
#include "jinja_operators.hpp"
#include "jinja_pyformat.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {
namespace {

using Filter = Value (*)(Interpreter&, const Value&, CallArgs&);

// A Python str method applied by a filter, e.g. str.center.
Value call_method(Interpreter& interpreter, const Value& self, const char* name, CallArgs args) {
  return python_method(self, name)->object()->call(args, interpreter);
}

Value generator(std::vector<Value> items) { return Value::sequence(std::move(items), SeqKind::Generator); }

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0, with the sandbox's item-then-attribute rule.
Value lookup_path(const Value& item, const Value& attribute) {
  if (attribute.is_none()) return item;
  if (!attribute.is_string()) return get_item(item, attribute);
  Value current = item;
  const std::string& path = attribute.as_string();
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current = digits ? get_item(current, Value(static_cast<int64_t>(std::stoll(part)))) : get_item(current, Value(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

Value ignore_case(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(unicode::lower(v.as_string())) : v;
}

// Python's sorted() with a key: stable, fails on unorderable keys.
std::vector<Value> sorted_by(std::vector<Value> items, const std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? less(keys[b], keys[a]) : less(keys[a], keys[b]);
  });
  std::vector<Value> out;
  out.reserve(items.size());
  for (size_t i : order) out.push_back(std::move(items[i]));
  return out;
}

// Python's reverse=True sort keeps equal elements in their original order, as stable_sort on swapped
// comparisons does.
Value filter_sort(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("sort", {"reverse", "case_sensitive", "attribute"}, args);
  bool reverse = truthy(sig.get_or(0, Value(false))), case_sensitive = truthy(sig.get_or(1, Value(false)));
  Value attribute = sig.get_or(2, Value::none());
  std::vector<Value> items = iterate(value), keys;
  std::vector<std::string> attributes;
  if (attribute.is_string()) {  // "age,name": compare as lists
    const std::string& spec = attribute.as_string();
    for (size_t start = 0;;) {
      size_t comma = spec.find(',', start);
      attributes.push_back(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const Value& item : items) {
    if (attributes.size() > 1) {
      std::vector<Value> parts;
      for (const auto& a : attributes) parts.push_back(ignore_case(lookup_path(item, Value(a)), case_sensitive));
      keys.push_back(Value::sequence(std::move(parts)));
    } else {
      keys.push_back(ignore_case(lookup_path(item, attribute), case_sensitive));
    }
  }
  return Value::sequence(sorted_by(std::move(items), keys, reverse));
}

Value filter_dictsort(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("dictsort", {"case_sensitive", "by", "reverse"}, args);
  bool case_sensitive = truthy(sig.get_or(0, Value(false))), reverse = truthy(sig.get_or(2, Value(false)));
  std::string by = to_str(sig.get_or(1, Value("key")));
  if (by != "key" && by != "value") render_fail("You can only sort by either \"key\" or \"value\"");
  if (!value.is_dict()) render_fail("'{}' object has no attribute 'items'", type_name(value));
  std::vector<Value> items, keys;
  for (const auto& [k, v] : value.dict().entries) {
    items.push_back(Value::sequence({k, v}, SeqKind::Tuple));
    keys.push_back(ignore_case(by == "key" ? k : v, case_sensitive));
  }
  return Value::sequence(sorted_by(std::move(items), keys, reverse));
}

Value filter_default(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("default", {"default_value", "boolean"}, args);
  if (value.is_undefined() || (truthy(sig.get_or(1, Value(false))) && !truthy(value))) return sig.get_or(0, Value(""));
  return value;
}

Value filter_length(Interpreter&, const Value& value, CallArgs& args) {
  Signature("length", {}, args);
  auto n = length(value);
  if (!n) render_fail("object of type '{}' has no len()", type_name(value));
  return Value(*n);
}

Value filter_first(Interpreter&, const Value& value, CallArgs& args) {
  Signature("first", {}, args);
  std::vector<Value> items = iterate(value);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value filter_last(Interpreter&, const Value& value, CallArgs& args) {
  Signature("last", {}, args);
  if (value.is_sequence() && value.seq().kind == SeqKind::Generator) render_fail("'generator' object is not reversible");
  std::vector<Value> items = iterate(value);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value filter_join(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("join", {"d", "attribute"}, args);
  std::string separator = to_str(sig.get_or(0, Value(""))), out;
  Value attribute = sig.get_or(1, Value::none());
  bool first = true;
  for (const Value& item : iterate(value)) {
    if (!first) out += separator;
    out += to_str(lookup_path(item, attribute));
    check_string_size(out.size());
    first = false;
  }
  return Value(out);
}

Value filter_string_case(const Value& value, CallArgs& args, const char* name, std::string (*f)(std::string_view)) {
  Signature(name, {}, args);
  return Value(f(to_str(value)));
}

Value filter_title(Interpreter&, const Value& value, CallArgs& args) {
  Signature("title", {}, args);
  // jinja2 splits on runs of [-\s({\[<] and capitalises each piece's first character.
  std::u32string text = unicode::decode(to_str(value)), out;
  auto is_delimiter = [](char32_t c) { return unicode::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  bool at_word_start = true;
  for (char32_t c : text) {
    if (is_delimiter(c)) {
      out.push_back(c);
      at_word_start = true;
    } else {
      out.push_back(at_word_start ? unicode::to_upper(c) : unicode::to_lower(c));
      at_word_start = false;
    }
  }
  return Value(unicode::encode(out));
}

Value filter_replace(Interpreter& interpreter, const Value& value, CallArgs& args) {
  Signature sig("replace", {"old", "new", "count"}, args, 2);
  CallArgs method_args;
  method_args.positional = {Value(to_str(sig.get(0))), Value(to_str(sig.get(1)))};
  if (sig.has(2) && !sig.get(2).is_none()) method_args.positional.push_back(sig.get(2));
  return call_method(interpreter, Value(to_str(value)), "replace", std::move(method_args));
}

Value filter_trim(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("trim", {"chars"}, args);
  if (sig.has(0) && !sig.get(0).is_none()) {
    std::u32string chars = unicode::decode(to_str(sig.get(0)));
    return Value(unicode::strip(to_str(value), true, true, &chars));
  }
  return Value(unicode::strip(to_str(value), true, true));
}

Value filter_tojson(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("tojson", {"ensure_ascii", "indent", "separators", "sort_keys"}, args);
  JsonStyle style;
  style.ensure_ascii = truthy(sig.get_or(0, Value(false)));
  Value indent = sig.get_or(1, Value::none());
  if (indent.is_integral()) style.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
  else if (indent.is_string()) style.indent = indent.as_string();
  else if (!indent.is_none()) render_fail("indent must be an int, a str or None");
  style.item_separator = style.indent ? "," : ", ";
  style.key_separator = ": ";
  Value separators = sig.get_or(2, Value::none());
  if (!separators.is_none()) {
    std::vector<Value> pair = iterate(separators);
    if (pair.size() != 2) render_fail("separators must be an (item_separator, key_separator) pair");
    style.item_separator = to_str(pair[0]);
    style.key_separator = to_str(pair[1]);
  }
  style.sort_keys = truthy(sig.get_or(3, Value(false)));
  return Value(to_json(value, style));
}

Value filter_int(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("int", {"default", "base"}, args);
  Value fallback = sig.get_or(0, Value(int64_t{0}));
  int base = static_cast<int>(sig.get_or(1, Value(int64_t{10})).as_int());
  if (value.is_integral()) return Value(value.as_int());
  if (value.is_float()) {
    double f = value.as_float();
    if (std::isnan(f) || std::isinf(f) || std::fabs(f) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(std::trunc(f)));
  }
  if (!value.is_string()) return fallback;
  std::string text = unicode::strip(value.as_string(), true, true);
  std::string digits;
  for (char c : text)
    if (c != '_') digits += c;
  if (!digits.empty()) {
    errno = 0;
    char* end = nullptr;
    long long parsed = std::strtoll(digits.c_str(), &end, base == 10 ? 10 : 0);
    if (errno == 0 && end && *end == '\0' && (base != 10 || digits.find_first_of("xXoObB") == std::string::npos))
      return Value(static_cast<int64_t>(parsed));
    char* float_end = nullptr;
    double f = std::strtod(digits.c_str(), &float_end);  // "42.23" | int gives 42
    if (float_end && *float_end == '\0' && std::isfinite(f) && std::fabs(f) < 9.2e18)
      return Value(static_cast<int64_t>(std::trunc(f)));
  }
  return fallback;
}

Value filter_float(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("float", {"default"}, args);
  if (value.is_number()) return Value(value.as_float());
  if (value.is_string()) {
    std::string text = unicode::strip(value.as_string(), true, true);
    char* end = nullptr;
    double f = std::strtod(text.c_str(), &end);
    if (!text.empty() && end && *end == '\0' && text.find_first_of("xXpP") == std::string::npos) return Value(f);
  }
  return sig.get_or(0, Value(0.0));
}

Value filter_abs(Interpreter&, const Value& value, CallArgs& args) {
  Signature("abs", {}, args);
  if (value.is_float()) return Value(std::fabs(value.as_float()));
  if (value.is_integral()) return negate(value, value.as_int() < 0);
  render_fail("bad operand type for abs(): '{}'", type_name(value));
}

Value filter_round(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("round", {"precision", "method"}, args);
  int64_t precision = sig.get_or(0, Value(int64_t{0})).as_int();
  std::string method = to_str(sig.get_or(1, Value("common")));
  if (method != "common" && method != "ceil" && method != "floor") render_fail("method must be common, ceil or floor");
  if (!value.is_number()) render_fail("type {} doesn't define __round__ method", type_name(value));
  if (method != "common") {
    double scale = std::pow(10.0, static_cast<double>(precision));
    double x = value.as_float() * scale;
    return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
  }
  if (value.is_integral() && precision >= 0) return Value(value.as_int());  // round(int, n) stays an int
  if (value.is_integral()) {
    double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value(static_cast<int64_t>(std::nearbyint(value.as_float() / scale) * scale));
  }
  double x = value.as_float();
  if (!std::isfinite(x)) return value;
  if (precision < 0) {
    double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value(std::nearbyint(x / scale) * scale);
  }
  // printf rounds the exact binary value half-to-even, which is what CPython's round() does.
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
  return Value(std::strtod(buf, nullptr));
}

Value filter_list(Interpreter&, const Value& value, CallArgs& args) {
  Signature("list", {}, args);
  return Value::sequence(iterate(value));
}

Value filter_string(Interpreter&, const Value& value, CallArgs& args) {
  Signature("string", {}, args);
  return Value(to_str(value));
}

Value filter_items(Interpreter&, const Value& value, CallArgs& args) {
  Signature("items", {}, args);
  if (value.is_undefined()) return generator({});
  if (!value.is_dict()) render_fail("Can only get item pairs from a mapping.");
  std::vector<Value> items;
  for (const auto& [k, v] : value.dict().entries) items.push_back(Value::sequence({k, v}, SeqKind::Tuple));
  return generator(std::move(items));
}

Value filter_reverse(Interpreter&, const Value& value, CallArgs& args) {
  Signature("reverse", {}, args);
  if (value.is_string()) {
    std::u32string text = unicode::decode(value.as_string());
    std::reverse(text.begin(), text.end());
    return Value(unicode::encode(text));
  }
  std::vector<Value> items = iterate(value);
  std::reverse(items.begin(), items.end());
  // reversed() of a list is an iterator; of a generator, jinja2 builds a list.
  bool was_generator = value.is_sequence() && value.seq().kind == SeqKind::Generator;
  return was_generator ? Value::sequence(std::move(items)) : generator(std::move(items));
}

Value filter_unique(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("unique", {"case_sensitive", "attribute"}, args);
  bool case_sensitive = truthy(sig.get_or(0, Value(false)));
  Value attribute = sig.get_or(1, Value::none());
  std::vector<Value> seen, out;
  for (const Value& item : iterate(value)) {
    Value key = ignore_case(lookup_path(item, attribute), case_sensitive);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return generator(std::move(out));
}

Value min_or_max(const Value& value, CallArgs& args, bool want_max) {
  Signature sig(want_max ? "max" : "min", {"case_sensitive", "attribute"}, args);
  bool case_sensitive = truthy(sig.get_or(0, Value(false)));
  Value attribute = sig.get_or(1, Value::none());
  std::vector<Value> items = iterate(value);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = ignore_case(lookup_path(items[0], attribute), case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = ignore_case(lookup_path(items[i], attribute), case_sensitive);
    if (want_max ? less(best_key, key) : less(key, best_key)) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

Value filter_min(Interpreter&, const Value& v, CallArgs& a) { return min_or_max(v, a, false); }
Value filter_max(Interpreter&, const Value& v, CallArgs& a) { return min_or_max(v, a, true); }

Value filter_sum(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("sum", {"attribute", "start"}, args);
  Value attribute = sig.get_or(0, Value::none());
  Value total = sig.get_or(1, Value(int64_t{0}));
  for (const Value& item : iterate(value)) total = arithmetic(BinaryExpr::Op::Add, total, lookup_path(item, attribute));
  return total;
}

Value filter_map(Interpreter& interpreter, const Value& value, CallArgs& args) {
  if (!truthy(value)) return generator({});
  std::vector<Value> out;
  if (args.positional.empty() && args.keyword("attribute")) {
    Value attribute = *args.keyword("attribute");
    const Value* fallback = args.keyword("default");
    for (const auto& [key, v] : args.keywords)
      if (key != "attribute" && key != "default") render_fail("Unexpected keyword argument '{}'", key);
    for (const Value& item : iterate(value)) {
      Value mapped = lookup_path(item, attribute);
      if (fallback && !fallback->is_none() && mapped.is_undefined()) mapped = *fallback;
      out.push_back(mapped);
    }
    return generator(std::move(out));
  }
  if (args.positional.empty()) render_fail("map requires a filter argument");
  std::string name = to_str(args.positional[0]);
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keywords = args.keywords;
  for (const Value& item : iterate(value)) {
    CallArgs call = rest;
    out.push_back(apply_filter(interpreter, name, item, call));
  }
  return generator(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Interpreter& interpreter, const Value& value, CallArgs& args, bool keep_when, bool by_attribute) {
  if (!truthy(value)) return generator({});
  size_t offset = 0;
  Value attribute = Value::none();
  if (by_attribute) {
    if (args.positional.empty()) render_fail("Missing parameter for attribute name");
    attribute = args.positional[0];
    offset = 1;
  }
  std::optional<std::string> test;
  CallArgs test_args;
  if (args.positional.size() > offset) {
    test = to_str(args.positional[offset]);
    test_args.positional.assign(args.positional.begin() + offset + 1, args.positional.end());
    test_args.keywords = args.keywords;
  }
  std::vector<Value> out;
  for (const Value& item : iterate(value)) {
    Value subject = by_attribute ? lookup_path(item, attribute) : item;
    CallArgs call = test_args;
    bool passed = test ? apply_test(interpreter, *test, subject, call) : truthy(subject);
    if (passed == keep_when) out.push_back(item);
  }
  return generator(std::move(out));
}

Value filter_select(Interpreter& i, const Value& v, CallArgs& a) { return select_or_reject(i, v, a, true, false); }
Value filter_reject(Interpreter& i, const Value& v, CallArgs& a) { return select_or_reject(i, v, a, false, false); }
Value filter_selectattr(Interpreter& i, const Value& v, CallArgs& a) { return select_or_reject(i, v, a, true, true); }
Value filter_rejectattr(Interpreter& i, const Value& v, CallArgs& a) { return select_or_reject(i, v, a, false, true); }

Value filter_batch(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("batch", {"linecount", "fill_with"}, args, 1);
  int64_t size = sig.get(0).as_int();
  if (size <= 0) render_fail("batch size must be positive");
  Value fill = sig.get_or(1, Value::none());
  std::vector<Value> out, current;
  for (const Value& item : iterate(value)) {
    if (static_cast<int64_t>(current.size()) == size) {
      out.push_back(Value::sequence(std::move(current)));
      current.clear();
    }
    current.push_back(item);
  }
  if (!current.empty()) {
    while (!fill.is_none() && static_cast<int64_t>(current.size()) < size) current.push_back(fill);
    out.push_back(Value::sequence(std::move(current)));
  }
  return generator(std::move(out));
}

Value filter_slice(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("slice", {"slices", "fill_with"}, args, 1);
  int64_t slices = sig.get(0).as_int();
  if (slices <= 0) render_fail("slice count must be positive");
  Value fill = sig.get_or(1, Value::none());
  std::vector<Value> items = iterate(value), out;
  int64_t n = static_cast<int64_t>(items.size()), per = n / slices, extra = n % slices, offset = 0;
  for (int64_t k = 0; k < slices; ++k) {
    int64_t start = offset + k * per;
    if (k < extra) ++offset;
    int64_t end = offset + (k + 1) * per;
    std::vector<Value> part(items.begin() + start, items.begin() + end);
    if (!fill.is_none() && k >= extra) part.push_back(fill);
    out.push_back(Value::sequence(std::move(part)));
  }
  return generator(std::move(out));
}

Value filter_indent(Interpreter& interpreter, const Value& value, CallArgs& args) {
  Signature sig("indent", {"width", "first", "blank"}, args);
  Value width = sig.get_or(0, Value(int64_t{4}));
  if (!width.is_string()) check_string_size(static_cast<size_t>(std::max<int64_t>(0, width.as_int())));
  std::string indentation = width.is_string() ? width.as_string() : std::string(std::max<int64_t>(0, width.as_int()), ' ');
  bool first = truthy(sig.get_or(1, Value(false))), blank = truthy(sig.get_or(2, Value(false)));
  // jinja2 appends a newline before splitlines() so that a trailing newline survives.
  Value lines_value = call_method(interpreter, Value(to_str(value) + "\n"), "splitlines", {});
  std::vector<Value> lines = lines_value.seq().items;
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i].as_string();
    if (i > 0) out += "\n";
    if (i > 0 && (blank || !line.empty())) out += indentation;
    out += line;
    check_string_size(out.size());
  }
  return Value(first ? indentation + out : out);
}

Value filter_center(Interpreter& interpreter, const Value& value, CallArgs& args) {
  Signature sig("center", {"width"}, args);
  CallArgs call;
  call.positional.push_back(sig.get_or(0, Value(int64_t{80})));
  return call_method(interpreter, Value(to_str(value)), "center", std::move(call));
}

Value filter_wordcount(Interpreter&, const Value& value, CallArgs& args) {
  Signature("wordcount", {}, args);
  int64_t words = 0;
  bool in_word = false;
  for (char32_t c : unicode::decode(to_str(value))) {
    bool word = unicode::is_word(c);
    if (word && !in_word) ++words;
    in_word = word;
  }
  return Value(words);
}

Value filter_truncate(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("truncate", {"length", "killwords", "end", "leeway"}, args);
  int64_t length = sig.get_or(0, Value(int64_t{255})).as_int();
  bool killwords = truthy(sig.get_or(1, Value(false)));
  std::u32string end = unicode::decode(to_str(sig.get_or(2, Value("..."))));
  Value leeway_value = sig.get_or(3, Value::none());
  int64_t leeway = leeway_value.is_none() ? 5 : leeway_value.as_int();
  std::u32string text = unicode::decode(to_str(value));
  if (length < static_cast<int64_t>(end.size())) render_fail("expected length >= {}, got {}", end.size(), length);
  if (static_cast<int64_t>(text.size()) <= length + leeway) return Value(unicode::encode(text));
  std::u32string head = text.substr(0, static_cast<size_t>(length) - end.size());
  if (!killwords) {
    size_t space = head.rfind(U' ');
    if (space != std::u32string::npos) head = head.substr(0, space);
  }
  return Value(unicode::encode(head + end));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value filter_escape(Interpreter&, const Value& value, CallArgs& args) {
  Signature("escape", {}, args);
  return Value(html_escape(to_str(value)));
}

Value filter_safe(Interpreter&, const Value& value, CallArgs& args) {
  Signature("safe", {}, args);
  return value.is_string() ? value : Value(to_str(value));  // Markup behaves as str when autoescape is off
}

Value filter_striptags(Interpreter& interpreter, const Value& value, CallArgs& args) {
  Signature("striptags", {}, args);
  std::string text = to_str(value), stripped;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "<!--") == 0) {
      size_t end = text.find("-->", i + 4);
      i = end == std::string::npos ? text.size() : end + 3;
    } else if (text[i] == '<' && text.find('>', i) != std::string::npos) {
      i = text.find('>', i) + 1;
    } else {
      stripped += text[i++];
    }
  }
  Value words = call_method(interpreter, Value(stripped), "split", {});
  std::string joined;
  for (const Value& w : words.seq().items) joined += (joined.empty() ? "" : " ") + w.as_string();
  static const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [entity, plain] : entities)
    for (size_t at; (at = joined.find(entity)) != std::string::npos;) joined.replace(at, std::strlen(entity), plain);
  return Value(joined);
}

Value filter_format(Interpreter&, const Value& value, CallArgs& args) {
  if (!args.positional.empty() && !args.keywords.empty())
    render_fail("can't handle positional and keyword arguments at the same time");
  if (!args.keywords.empty()) {
    Dict mapping;
    for (const auto& [k, v] : args.keywords) mapping.set(Value(k), v);
    return Value(percent_format(to_str(value), Value::make_dict(std::move(mapping))));
  }
  return Value(percent_format(to_str(value), Value::sequence(args.positional, SeqKind::Tuple)));
}

Value filter_attr(Interpreter&, const Value& value, CallArgs& args) {
  Signature sig("attr", {"name"}, args, 1);
  std::string name = to_str(sig.get(0));
  if (value.is_undefined()) fail_undefined(value);
  std::optional<Value> found;
  if (value.is_object()) found = value.object()->attribute(name);
  else found = python_method(value, name);
  if (found && !(name.size() && name[0] == '_')) return *found;
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(value), name));
}

Value filter_pprint(Interpreter&, const Value& value, CallArgs& args) {
  Signature("pprint", {}, args);
  return Value(repr(value));
}

const std::map<std::string, Filter>& filters() {
  static const std::map<std::string, Filter> table = {
      {"abs", filter_abs},
      {"attr", filter_attr},
      {"batch", filter_batch},
      {"capitalize", [](Interpreter&, const Value& v, CallArgs& a) { return filter_string_case(v, a, "capitalize", unicode::capitalize); }},
      {"center", filter_center},
      {"count", filter_length},
      {"d", filter_default},
      {"default", filter_default},
      {"dictsort", filter_dictsort},
      {"e", filter_escape},
      {"escape", filter_escape},
      {"first", filter_first},
      {"float", filter_float},
      {"forceescape", filter_escape},
      {"format", filter_format},
      {"indent", filter_indent},
      {"int", filter_int},
      {"items", filter_items},
      {"join", filter_join},
      {"last", filter_last},
      {"length", filter_length},
      {"list", filter_list},
      {"lower", [](Interpreter&, const Value& v, CallArgs& a) { return filter_string_case(v, a, "lower", unicode::lower); }},
      {"map", filter_map},
      {"max", filter_max},
      {"min", filter_min},
      {"pprint", filter_pprint},
      {"reject", filter_reject},
      {"rejectattr", filter_rejectattr},
      {"replace", filter_replace},
      {"reverse", filter_reverse},
      {"round", filter_round},
      {"safe", filter_safe},
      {"select", filter_select},
      {"selectattr", filter_selectattr},
      {"slice", filter_slice},
      {"sort", filter_sort},
      {"string", filter_string},
      {"striptags", filter_striptags},
      {"sum", filter_sum},
      {"title", filter_title},
      {"tojson", filter_tojson},
      {"trim", filter_trim},
      {"truncate", filter_truncate},
      {"unique", filter_unique},
      {"upper", [](Interpreter&, const Value& v, CallArgs& a) { return filter_string_case(v, a, "upper", unicode::upper); }},
      {"wordcount", filter_wordcount},
  };
  return table;
}

}  // namespace

bool has_filter(const std::string& name) { return filters().count(name) != 0; }

Value apply_filter(Interpreter& interpreter, const std::string& name, const Value& operand, CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) render_fail("No filter named '{}'.", name);
  return it->second(interpreter, operand, args);
}

}  // namespace vlm::jinja
