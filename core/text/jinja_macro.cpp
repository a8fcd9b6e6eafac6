// Macros and call blocks: argument binding as jinja2's Macro.__call__ does it.
#include "jinja_builtins.hpp"
#include "jinja_objects.hpp"

namespace vlm::jinja {

// Python would hit its recursion limit; this bound keeps the native stack safe.
constexpr int kMaxCallDepth = 100;

std::optional<Value> MacroObject::attribute(const std::string& name) const {
  if (name == "name") return Value(macro_->name);
  if (name == "arguments") {
    std::vector<Value> params(macro_->params.begin(), macro_->params.end());
    return Value::sequence(std::move(params), SeqKind::Tuple);
  }
  if (name == "caller") return Value(macro_->uses_caller);
  if (name == "catch_kwargs") return Value(macro_->uses_kwargs);
  if (name == "catch_varargs") return Value(macro_->uses_varargs);
  return std::nullopt;
}

Value MacroObject::call(CallArgs& args, Interpreter& interpreter) const {
  return interpreter.call_macro(*macro_, scope_, args);
}

Value Interpreter::call_macro(const MacroDef& macro, const ScopePtr& scope, CallArgs& args) {
  if (call_depth_ >= kMaxCallDepth)
    render_fail("maximum recursion depth exceeded (macro calls and recursive loops nest deeper than {})", kMaxCallDepth);
  ++call_depth_;
  auto macro_scope = std::make_shared<Scope>(scope);
  struct Cleanup {
    ~Cleanup() {
      s->clear();
      --depth;
    }
    Scope* s;
    int& depth;
  } cleanup{macro_scope.get(), call_depth_};

  const size_t n = macro.params.size();
  std::vector<std::optional<Value>> bound(n);
  std::vector<Value> varargs;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < n) bound[i] = args.positional[i];
    else if (macro.uses_varargs) varargs.push_back(args.positional[i]);
    else render_fail("macro '{}' takes not more than {} argument(s)", macro.name, n);
  }
  Dict kwargs;
  std::optional<Value> caller;
  for (const auto& [key, value] : args.keywords) {
    size_t i = 0;
    while (i < n && macro.params[i] != key) ++i;
    if (i < n) {
      if (bound[i]) render_fail("macro '{}' got multiple values for argument '{}'", macro.name, key);
      bound[i] = value;
    } else if (key == "caller" && macro.uses_caller) {
      caller = value;
    } else if (macro.uses_kwargs) {
      kwargs.set(Value(key), value);
    } else {
      render_fail("macro '{}' takes no keyword argument '{}'", macro.name, key);
    }
  }
  const size_t first_default = n - macro.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    Value value;
    if (bound[i]) value = *bound[i];
    else if (i >= first_default) value = eval(*macro.defaults[i - first_default], macro_scope);
    else value = Value::undefined(fmt::format("parameter '{}' was not provided", macro.params[i]));
    macro_scope->set(macro.params[i], std::move(value));
  }
  if (macro.uses_caller) macro_scope->set("caller", caller ? *caller : Value::undefined("No caller defined"));
  if (macro.uses_varargs) macro_scope->set("varargs", Value::sequence(std::move(varargs), SeqKind::Tuple));
  if (macro.uses_kwargs) macro_scope->set("kwargs", Value::make_dict(std::move(kwargs)));

  std::string saved;
  std::swap(saved, out_);
  struct Restore {
    ~Restore() { std::swap(saved, out); }
    std::string& saved;
    std::string& out;
  } restore{saved, out_};
  exec_body(macro.body, macro_scope);
  return Value(std::move(out_));
}

void Interpreter::exec_call_block(const CallBlockStmt& stmt, const ScopePtr& scope) {
  Value caller(std::make_shared<MacroObject>(stmt.caller, scope));
  emit(to_str(eval_call(static_cast<const CallExpr&>(*stmt.call), scope, &caller)));
}

}  // namespace vlm::jinja
