// Python methods of str, list, tuple and dict as templates call them (`text.strip()`, `d.items()`).
#include <algorithm>

#include "jinja_builtins.hpp"
#include "jinja_pyformat.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {
namespace {

using Method = std::function<Value(const Value& self, CallArgs& args)>;

const std::string& string_arg(const Value& v, const char* method) {
  if (!v.is_string()) render_fail("{}() argument must be str, not {}", method, type_name(v));
  return v.as_string();
}

std::optional<std::u32string> strip_chars(const Signature& sig, const char* method) {
  if (!sig.has(0) || sig.get(0).is_none()) return std::nullopt;
  return unicode::decode(string_arg(sig.get(0), method));
}

Value strip_method(const Value& self, CallArgs& args, const char* name, bool left, bool right) {
  Signature sig(name, {"chars"}, args);
  auto chars = strip_chars(sig, name);
  return Value(unicode::strip(self.as_string(), left, right, chars ? &*chars : nullptr));
}

// str.split / str.rsplit.
Value split_method(const Value& self, CallArgs& args, bool from_right) {
  const char* name = from_right ? "rsplit" : "split";
  Signature sig(name, {"sep", "maxsplit"}, args);
  int64_t maxsplit = sig.get_or(1, Value(int64_t{-1})).as_int();
  std::vector<std::string> parts;
  if (!sig.has(0) || sig.get(0).is_none()) {
    std::u32string text = unicode::decode(self.as_string());
    if (from_right) std::reverse(text.begin(), text.end());
    size_t i = 0;
    int64_t splits = 0;
    while (i < text.size()) {
      while (i < text.size() && unicode::is_space(text[i])) ++i;
      if (i >= text.size()) break;
      if (maxsplit >= 0 && splits >= maxsplit) {
        size_t end = text.size();
        while (end > i && unicode::is_space(text[end - 1])) --end;
        parts.push_back(unicode::encode(text.substr(i, end - i)));
        break;
      }
      size_t j = i;
      while (j < text.size() && !unicode::is_space(text[j])) ++j;
      parts.push_back(unicode::encode(text.substr(i, j - i)));
      ++splits;
      i = j;
    }
    if (from_right) {
      std::reverse(parts.begin(), parts.end());
      for (auto& p : parts) {
        std::u32string t = unicode::decode(p);
        std::reverse(t.begin(), t.end());
        p = unicode::encode(t);
      }
    }
  } else {
    const std::string& sep = string_arg(sig.get(0), name);
    if (sep.empty()) render_fail("empty separator");
    const std::string& s = self.as_string();
    if (!from_right) {
      size_t start = 0;
      int64_t splits = 0;
      for (size_t at; (maxsplit < 0 || splits < maxsplit) && (at = s.find(sep, start)) != std::string::npos; ++splits) {
        parts.push_back(s.substr(start, at - start));
        start = at + sep.size();
      }
      parts.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      int64_t splits = 0;
      while (maxsplit < 0 || splits < maxsplit) {
        if (end < sep.size()) break;
        size_t at = s.rfind(sep, end - sep.size());
        if (at == std::string::npos) break;
        parts.push_back(s.substr(at + sep.size(), end - at - sep.size()));
        end = at;
        ++splits;
      }
      parts.push_back(s.substr(0, end));
      std::reverse(parts.begin(), parts.end());
    }
  }
  std::vector<Value> out(parts.begin(), parts.end());
  return Value::sequence(std::move(out));
}

// startswith / endswith with a str or tuple of str, and optional start/end (code point offsets).
Value affix_method(const Value& self, CallArgs& args, bool prefix) {
  const char* name = prefix ? "startswith" : "endswith";
  Signature sig(name, {"affix", "start", "end"}, args, 1);
  std::u32string text = unicode::decode(self.as_string());
  int64_t n = static_cast<int64_t>(text.size());
  auto clamp = [&](const Value& v, int64_t fallback) {
    if (v.is_none()) return fallback;
    int64_t i = v.as_int();
    if (i < 0) i = std::max<int64_t>(0, i + n);
    return std::min(i, n);
  };
  int64_t start = clamp(sig.get_or(1, Value::none()), 0), end = clamp(sig.get_or(2, Value::none()), n);
  std::u32string window = start <= end ? text.substr(start, end - start) : std::u32string();
  std::vector<Value> candidates;
  const Value& affix = sig.get(0);
  if (affix.is_sequence() && affix.seq().kind == SeqKind::Tuple) candidates = affix.seq().items;
  else if (affix.is_string()) candidates.push_back(affix);
  else render_fail("{} first arg must be str or a tuple of str, not {}", name, type_name(affix));
  for (const Value& c : candidates) {
    std::u32string a = unicode::decode(string_arg(c, name));
    if (a.size() > window.size()) continue;
    if (prefix ? window.compare(0, a.size(), a) == 0 : window.compare(window.size() - a.size(), a.size(), a) == 0)
      return Value(true);
  }
  return Value(false);
}

Value find_method(const Value& self, CallArgs& args, const char* name, bool from_right, bool raise) {
  Signature sig(name, {"sub"}, args, 1);
  std::u32string text = unicode::decode(self.as_string()), sub = unicode::decode(string_arg(sig.get(0), name));
  size_t at = from_right ? text.rfind(sub) : text.find(sub);
  if (at == std::u32string::npos) {
    if (raise) render_fail("substring not found");
    return Value(int64_t{-1});
  }
  return Value(static_cast<int64_t>(at));
}

Value replace_method(const Value& self, CallArgs& args) {
  Signature sig("replace", {"old", "new", "count"}, args, 2);
  const std::string& old_text = string_arg(sig.get(0), "replace");
  const std::string& new_text = string_arg(sig.get(1), "replace");
  int64_t count = sig.get_or(2, Value(int64_t{-1})).as_int();
  const std::string& s = self.as_string();
  std::string out;
  if (old_text.empty()) {  // Python inserts `new` between every character
    std::u32string text = unicode::decode(s);
    int64_t done = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      if (i < text.size()) unicode::append(out, text[i]);
      check_string_size(out.size());
    }
    return Value(out);
  }
  size_t start = 0;
  int64_t done = 0;
  for (size_t at; (count < 0 || done < count) && (at = s.find(old_text, start)) != std::string::npos; ++done) {
    out += s.substr(start, at - start) + new_text;
    check_string_size(out.size());
    start = at + old_text.size();
  }
  return Value(out + s.substr(start));
}

Value join_method(const Value& self, CallArgs& args) {
  Signature sig("join", {"iterable"}, args, 1);
  std::string out;
  bool first = true;
  size_t index = 0;
  for (const Value& item : iterate(sig.get(0))) {
    if (!item.is_string())
      render_fail("sequence item {}: expected str instance, {} found", index, type_name(item));
    if (!first) out += self.as_string();
    out += item.as_string();
    check_string_size(out.size());
    first = false;
    ++index;
  }
  return Value(out);
}

Value justify_method(const Value& self, CallArgs& args, const char* name, char align) {
  Signature sig(name, {"width", "fillchar"}, args, 1);
  std::u32string text = unicode::decode(self.as_string());
  std::u32string fill = unicode::decode(sig.get_or(1, Value(" ")).as_string());
  if (fill.size() != 1) render_fail("The fill character must be exactly one character long");
  int64_t width = sig.get(0).as_int(), total = width - static_cast<int64_t>(text.size());
  if (total <= 0) return self;
  check_string_size(static_cast<size_t>(width));
  // CPython's str.center puts the odd extra fill character on the left only when the width is odd.
  int64_t left = align == '<' ? 0 : align == '>' ? total : total / 2 + (total & width & 1);
  return Value(unicode::encode(std::u32string(left, fill[0]) + text + std::u32string(total - left, fill[0])));
}

Value predicate_method(const Value& self, bool (*predicate)(char32_t)) {
  std::u32string text = unicode::decode(self.as_string());
  return Value(!text.empty() && std::all_of(text.begin(), text.end(), predicate));
}

Value cased_method(const Value& self, bool want_upper) {
  bool any_cased = false;
  for (char32_t c : unicode::decode(self.as_string())) {
    if (want_upper ? unicode::is_lower(c) : unicode::is_upper(c)) return Value(false);
    if (unicode::is_lower(c) || unicode::is_upper(c)) any_cased = true;
  }
  return Value(any_cased);
}

Value splitlines_method(const Value& self, CallArgs& args) {
  Signature sig("splitlines", {"keepends"}, args);
  bool keep = truthy(sig.get_or(0, Value(false)));
  std::u32string text = unicode::decode(self.as_string());
  std::vector<Value> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char32_t c = text[i];
    bool is_break = c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1C || c == 0x1D || c == 0x1E ||
                    c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!is_break) continue;
    size_t end = i;
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    lines.emplace_back(unicode::encode(text.substr(start, (keep ? i + 1 : end) - start)));
    start = i + 1;
  }
  if (start < text.size()) lines.emplace_back(unicode::encode(text.substr(start)));
  return Value::sequence(std::move(lines));
}

Value partition_method(const Value& self, CallArgs& args, bool from_right) {
  const char* name = from_right ? "rpartition" : "partition";
  Signature sig(name, {"sep"}, args, 1);
  const std::string& sep = string_arg(sig.get(0), name);
  if (sep.empty()) render_fail("empty separator");
  const std::string& s = self.as_string();
  size_t at = from_right ? s.rfind(sep) : s.find(sep);
  std::vector<Value> parts;
  if (at == std::string::npos) {
    parts = from_right ? std::vector<Value>{Value(""), Value(""), self} : std::vector<Value>{self, Value(""), Value("")};
  } else {
    parts = {Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))};
  }
  return Value::sequence(std::move(parts), SeqKind::Tuple);
}

const std::vector<std::pair<std::string, Method>>& string_methods() {
  static const std::vector<std::pair<std::string, Method>> methods = {
      {"upper", [](const Value& s, CallArgs& a) { Signature("upper", {}, a); return Value(unicode::upper(s.as_string())); }},
      {"lower", [](const Value& s, CallArgs& a) { Signature("lower", {}, a); return Value(unicode::lower(s.as_string())); }},
      {"casefold", [](const Value& s, CallArgs& a) { Signature("casefold", {}, a); return Value(unicode::lower(s.as_string())); }},
      {"title", [](const Value& s, CallArgs& a) { Signature("title", {}, a); return Value(unicode::title(s.as_string())); }},
      {"capitalize", [](const Value& s, CallArgs& a) { Signature("capitalize", {}, a); return Value(unicode::capitalize(s.as_string())); }},
      {"swapcase", [](const Value& s, CallArgs& a) {
         Signature("swapcase", {}, a);
         std::u32string t = unicode::decode(s.as_string());
         for (char32_t& c : t) c = unicode::is_upper(c) ? unicode::to_lower(c) : unicode::to_upper(c);
         return Value(unicode::encode(t));
       }},
      {"strip", [](const Value& s, CallArgs& a) { return strip_method(s, a, "strip", true, true); }},
      {"lstrip", [](const Value& s, CallArgs& a) { return strip_method(s, a, "lstrip", true, false); }},
      {"rstrip", [](const Value& s, CallArgs& a) { return strip_method(s, a, "rstrip", false, true); }},
      {"split", [](const Value& s, CallArgs& a) { return split_method(s, a, false); }},
      {"rsplit", [](const Value& s, CallArgs& a) { return split_method(s, a, true); }},
      {"splitlines", splitlines_method},
      {"startswith", [](const Value& s, CallArgs& a) { return affix_method(s, a, true); }},
      {"endswith", [](const Value& s, CallArgs& a) { return affix_method(s, a, false); }},
      {"find", [](const Value& s, CallArgs& a) { return find_method(s, a, "find", false, false); }},
      {"rfind", [](const Value& s, CallArgs& a) { return find_method(s, a, "rfind", true, false); }},
      {"index", [](const Value& s, CallArgs& a) { return find_method(s, a, "index", false, true); }},
      {"rindex", [](const Value& s, CallArgs& a) { return find_method(s, a, "rindex", true, true); }},
      {"count", [](const Value& s, CallArgs& a) {
         Signature sig("count", {"sub"}, a, 1);
         const std::string& sub = string_arg(sig.get(0), "count");
         if (sub.empty()) return Value(static_cast<int64_t>(unicode::length(s.as_string()) + 1));
         int64_t n = 0;
         for (size_t at = s.as_string().find(sub); at != std::string::npos; at = s.as_string().find(sub, at + sub.size())) ++n;
         return Value(n);
       }},
      {"replace", replace_method},
      {"join", join_method},
      {"format", [](const Value& s, CallArgs& a) { return Value(brace_format(s.as_string(), a)); }},
      {"center", [](const Value& s, CallArgs& a) { return justify_method(s, a, "center", '^'); }},
      {"ljust", [](const Value& s, CallArgs& a) { return justify_method(s, a, "ljust", '<'); }},
      {"rjust", [](const Value& s, CallArgs& a) { return justify_method(s, a, "rjust", '>'); }},
      {"zfill", [](const Value& s, CallArgs& a) {
         Signature sig("zfill", {"width"}, a, 1);
         std::string text = s.as_string();
         int64_t pad = sig.get(0).as_int() - static_cast<int64_t>(unicode::length(text));
         if (pad <= 0) return s;
         check_string_size(static_cast<size_t>(pad) + text.size());
         size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
         return Value(text.substr(0, sign) + std::string(pad, '0') + text.substr(sign));
       }},
      {"partition", [](const Value& s, CallArgs& a) { return partition_method(s, a, false); }},
      {"rpartition", [](const Value& s, CallArgs& a) { return partition_method(s, a, true); }},
      {"removeprefix", [](const Value& s, CallArgs& a) {
         Signature sig("removeprefix", {"prefix"}, a, 1);
         const std::string& p = string_arg(sig.get(0), "removeprefix");
         return s.as_string().rfind(p, 0) == 0 ? Value(s.as_string().substr(p.size())) : s;
       }},
      {"removesuffix", [](const Value& s, CallArgs& a) {
         Signature sig("removesuffix", {"suffix"}, a, 1);
         const std::string& p = string_arg(sig.get(0), "removesuffix");
         const std::string& t = s.as_string();
         bool ends = !p.empty() && t.size() >= p.size() && t.compare(t.size() - p.size(), p.size(), p) == 0;
         return ends ? Value(t.substr(0, t.size() - p.size())) : s;
       }},
      {"isdigit", [](const Value& s, CallArgs& a) { Signature("isdigit", {}, a); return predicate_method(s, unicode::is_digit); }},
      {"isnumeric", [](const Value& s, CallArgs& a) { Signature("isnumeric", {}, a); return predicate_method(s, unicode::is_digit); }},
      {"isdecimal", [](const Value& s, CallArgs& a) { Signature("isdecimal", {}, a); return predicate_method(s, unicode::is_digit); }},
      {"isalpha", [](const Value& s, CallArgs& a) { Signature("isalpha", {}, a); return predicate_method(s, unicode::is_alpha); }},
      {"isalnum", [](const Value& s, CallArgs& a) {
         Signature("isalnum", {}, a);
         return predicate_method(s, [](char32_t c) { return unicode::is_alpha(c) || unicode::is_digit(c); });
       }},
      {"isspace", [](const Value& s, CallArgs& a) { Signature("isspace", {}, a); return predicate_method(s, unicode::is_space); }},
      {"isupper", [](const Value& s, CallArgs& a) { Signature("isupper", {}, a); return cased_method(s, true); }},
      {"islower", [](const Value& s, CallArgs& a) { Signature("islower", {}, a); return cased_method(s, false); }},
  };
  return methods;
}

Value dict_items(const Value& self, SeqKind) {
  std::vector<Value> items;
  for (const auto& [k, v] : self.dict().entries) items.push_back(Value::sequence({k, v}, SeqKind::Tuple));
  return Value::sequence(std::move(items));
}

const std::vector<std::pair<std::string, Method>>& dict_methods() {
  static const std::vector<std::pair<std::string, Method>> methods = {
      {"items", [](const Value& d, CallArgs& a) { Signature("items", {}, a); return dict_items(d, SeqKind::List); }},
      {"keys", [](const Value& d, CallArgs& a) { Signature("keys", {}, a); return Value::sequence(iterate(d)); }},
      {"values", [](const Value& d, CallArgs& a) {
         Signature("values", {}, a);
         std::vector<Value> values;
         for (const auto& entry : d.dict().entries) values.push_back(entry.second);
         return Value::sequence(std::move(values));
       }},
      {"get", [](const Value& d, CallArgs& a) {
         Signature sig("get", {"key", "default"}, a, 1);
         const Value* found = d.dict().find(sig.get(0));
         return found ? *found : sig.get_or(1, Value::none());
       }},
      {"copy", [](const Value& d, CallArgs& a) { Signature("copy", {}, a); return Value::make_dict(d.dict()); }},
  };
  return methods;
}

const std::vector<std::pair<std::string, Method>>& sequence_methods() {
  static const std::vector<std::pair<std::string, Method>> methods = {
      {"index", [](const Value& l, CallArgs& a) {
         Signature sig("index", {"value"}, a, 1);
         const auto& items = l.seq().items;
         for (size_t i = 0; i < items.size(); ++i)
           if (equals(items[i], sig.get(0))) return Value(static_cast<int64_t>(i));
         render_fail("{} is not in list", repr(sig.get(0)));
       }},
      {"count", [](const Value& l, CallArgs& a) {
         Signature sig("count", {"value"}, a, 1);
         int64_t n = 0;
         for (const Value& item : l.seq().items) n += equals(item, sig.get(0)) ? 1 : 0;
         return Value(n);
       }},
      {"copy", [](const Value& l, CallArgs& a) { Signature("copy", {}, a); return Value::sequence(l.seq().items, l.seq().kind); }},
  };
  return methods;
}

bool is_mutating(const Value& object, const std::string& name) {
  static const std::vector<std::string> list_mutators = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
  static const std::vector<std::string> dict_mutators = {"pop", "popitem", "setdefault", "update", "clear"};
  const auto& names = object.is_dict() ? dict_mutators : list_mutators;
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<Value> python_method(const Value& object, const std::string& name) {
  const std::vector<std::pair<std::string, Method>>* table = nullptr;
  if (object.is_string()) table = &string_methods();
  else if (object.is_dict()) table = &dict_methods();
  else if (object.is_sequence() && object.seq().kind != SeqKind::Generator) table = &sequence_methods();
  if (!table) return std::nullopt;
  if ((object.is_dict() || object.is_list()) && is_mutating(object, name))
    return Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, type_name(object)));
  if (object.is_sequence() && object.seq().kind == SeqKind::Tuple && name == "copy") return std::nullopt;
  for (const auto& [method_name, method] : *table)
    if (method_name == name) {
      Method bound_method = method;
      Value self = object;
      return make_function(name, [self, bound_method](CallArgs& args, Interpreter&) { return bound_method(self, args); });
    }
  return std::nullopt;
}

}  // namespace vlm::jinja
