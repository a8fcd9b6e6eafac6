#pragma once
// What templates can call besides macros: builtin filters, tests and global functions, Python methods of
// str/list/dict, the namespace object, and the Python-style argument binding they share.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jinja_value.hpp"

namespace vlm::jinja {

// Binds call arguments to a Python-style signature: positionals fill `params` in order, keywords by name.
// Too many arguments, unknown or repeated keywords and missing required ones raise like Python.
class Signature {
 public:
  Signature(const std::string& function, const std::vector<std::string>& params, const CallArgs& args,
            size_t required = 0);
  bool has(size_t i) const { return bound_[i].has_value(); }
  const Value& get(size_t i) const { return *bound_[i]; }
  Value get_or(size_t i, Value fallback) const { return has(i) ? *bound_[i] : std::move(fallback); }

 private:
  std::vector<std::optional<Value>> bound_;
};

// A builtin function or bound method.
class Function : public Object {
 public:
  using Body = std::function<Value(CallArgs&, Interpreter&)>;
  Function(std::string name, Body body) : name_(std::move(name)), body_(std::move(body)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }
  bool is_callable() const override { return true; }
  Value call(CallArgs& args, Interpreter& interpreter) const override { return body_(args, interpreter); }

 private:
  std::string name_;
  Body body_;
};

inline Value make_function(std::string name, Function::Body body) {
  return Value(std::make_shared<Function>(std::move(name), std::move(body)));
}

// jinja2's namespace(): the one object templates may assign attributes to (`set ns.x = ...`).
class Namespace : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::string repr() const override { return "<Namespace " + jinja::repr(Value::make_dict(attributes)) + ">"; }
  std::optional<Value> attribute(const std::string& name) const override;
  Dict attributes;
};

// Filters and tests by name; nullopt/false results come with errors for unknown names.
bool has_filter(const std::string& name);
Value apply_filter(Interpreter& interpreter, const std::string& name, const Value& operand, CallArgs& args);
bool has_test(const std::string& name);
bool apply_test(Interpreter& interpreter, const std::string& name, const Value& operand, CallArgs& args);

// The global names every template sees: range, dict, namespace, cycler, joiner, raise_exception,
// strftime_now.
Dict global_functions();

// `obj.name` for the Python methods of str, list, tuple and dict. nullopt when there is no such method;
// mutating methods give an undefined value that fails when used, as in the immutable sandbox.
std::optional<Value> python_method(const Value& object, const std::string& name);

// HF's tojson: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys).
struct JsonStyle {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // per-level indent text; none for a single line
  std::string item_separator, key_separator;
  bool sort_keys = false;
};
std::string to_json(const Value& value, const JsonStyle& style);

}  // namespace vlm::jinja
