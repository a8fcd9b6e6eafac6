// The builtin tests of jinja2 (tests.py): `x is defined`, `x is string`, `x is divisibleby 3`, ...
#include <map>

#include "jinja_builtins.hpp"
#include "jinja_operators.hpp"
#include "jinja_unicode.hpp"

namespace vlm::jinja {
namespace {

using Test = bool (*)(const Value&, CallArgs&);

const Value& one_arg(const char* name, CallArgs& args, std::optional<Signature>& holder) {
  holder.emplace(name, std::vector<std::string>{"other"}, args, 1);
  return holder->get(0);
}

template <CompareOp op>
bool compare_test(const Value& v, CallArgs& args) {
  std::optional<Signature> sig;
  return compare(op, v, one_arg("compare", args, sig));
}

bool remainder_is(const Value& v, const Value& divisor, int64_t expected) {
  return equals(arithmetic(BinaryExpr::Op::Modulo, v, divisor), Value(expected));
}

bool no_args(const char* name, CallArgs& args) {
  Signature(name, {}, args);
  return true;
}

bool is_callable(const Value& v) {
  // Undefined defines __call__ (to raise), so Python's callable() says yes.
  return v.is_undefined() || (v.is_object() && v.object()->is_callable());
}

const std::map<std::string, Test>& tests() {
  static const std::map<std::string, Test> table = {
      {"odd", [](const Value& v, CallArgs& a) { return no_args("odd", a) && remainder_is(v, Value(int64_t{2}), 1); }},
      {"even", [](const Value& v, CallArgs& a) { return no_args("even", a) && remainder_is(v, Value(int64_t{2}), 0); }},
      {"divisibleby", [](const Value& v, CallArgs& a) {
         std::optional<Signature> sig;
         return remainder_is(v, one_arg("divisibleby", a, sig), 0);
       }},
      {"defined", [](const Value& v, CallArgs& a) { return no_args("defined", a) && !v.is_undefined(); }},
      {"undefined", [](const Value& v, CallArgs& a) { return no_args("undefined", a) && v.is_undefined(); }},
      {"none", [](const Value& v, CallArgs& a) { return no_args("none", a) && v.is_none(); }},
      {"boolean", [](const Value& v, CallArgs& a) { return no_args("boolean", a) && v.is_bool(); }},
      {"false", [](const Value& v, CallArgs& a) { return no_args("false", a) && v.is_bool() && !v.as_bool(); }},
      {"true", [](const Value& v, CallArgs& a) { return no_args("true", a) && v.is_bool() && v.as_bool(); }},
      {"integer", [](const Value& v, CallArgs& a) { return no_args("integer", a) && v.is_int(); }},
      {"float", [](const Value& v, CallArgs& a) { return no_args("float", a) && v.is_float(); }},
      {"number", [](const Value& v, CallArgs& a) { return no_args("number", a) && v.is_number(); }},
      {"string", [](const Value& v, CallArgs& a) { return no_args("string", a) && v.is_string(); }},
      {"mapping", [](const Value& v, CallArgs& a) { return no_args("mapping", a) && v.is_dict(); }},
      {"lower", [](const Value& v, CallArgs& a) {
         no_args("lower", a);
         std::string s = to_str(v);
         return unicode::lower(s) == s && unicode::upper(s) != s;
       }},
      {"upper", [](const Value& v, CallArgs& a) {
         no_args("upper", a);
         std::string s = to_str(v);
         return unicode::upper(s) == s && unicode::lower(s) != s;
       }},
      {"sequence", [](const Value& v, CallArgs& a) {
         // len() and __getitem__: str, list, tuple, dict and Undefined qualify.
         return no_args("sequence", a) &&
                (v.is_undefined() || v.is_string() || v.is_dict() || (v.is_sequence() && v.seq().kind != SeqKind::Generator));
       }},
      {"iterable", [](const Value& v, CallArgs& a) {
         return no_args("iterable", a) && (v.is_undefined() || v.is_string() || v.is_dict() || v.is_sequence());
       }},
      {"callable", [](const Value& v, CallArgs& a) { return no_args("callable", a) && is_callable(v); }},
      {"sameas", [](const Value& v, CallArgs& a) {
         std::optional<Signature> sig;
         return v.identical(one_arg("sameas", a, sig));
       }},
      {"escaped", [](const Value&, CallArgs& a) { return no_args("escaped", a) && false; }},
      {"in", [](const Value& v, CallArgs& a) {
         std::optional<Signature> sig;
         return contains(one_arg("in", a, sig), v);
       }},
      {"==", compare_test<CompareOp::Equal>},
      {"eq", compare_test<CompareOp::Equal>},
      {"equalto", compare_test<CompareOp::Equal>},
      {"!=", compare_test<CompareOp::NotEqual>},
      {"ne", compare_test<CompareOp::NotEqual>},
      {">", compare_test<CompareOp::Greater>},
      {"gt", compare_test<CompareOp::Greater>},
      {"greaterthan", compare_test<CompareOp::Greater>},
      {">=", compare_test<CompareOp::GreaterEqual>},
      {"ge", compare_test<CompareOp::GreaterEqual>},
      {"<", compare_test<CompareOp::Less>},
      {"lt", compare_test<CompareOp::Less>},
      {"lessthan", compare_test<CompareOp::Less>},
      {"<=", compare_test<CompareOp::LessEqual>},
      {"le", compare_test<CompareOp::LessEqual>},
      {"filter", [](const Value& v, CallArgs& a) { return no_args("filter", a) && v.is_string() && has_filter(v.as_string()); }},
      {"test", [](const Value& v, CallArgs& a) { return no_args("test", a) && v.is_string() && has_test(v.as_string()); }},
  };
  return table;
}

}  // namespace

bool has_test(const std::string& name) { return tests().count(name) != 0; }

bool apply_test(Interpreter&, const std::string& name, const Value& operand, CallArgs& args) {
  auto it = tests().find(name);
  if (it == tests().end()) render_fail("No test named '{}'.", name);
  return it->second(operand, args);
}

}  // namespace vlm::jinja
