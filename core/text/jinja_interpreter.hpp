#pragma once
// Executes a parsed template. Scoping follows jinja2: `for` bodies, macros, `with` and block captures get a
// fresh scope per run that reads through to the enclosing ones; `if` does not scope; assignments inside a
// loop do not survive the iteration (hence namespace()).
#include <memory>
#include <string>
#include <unordered_map>

#include "jinja_ast.hpp"

namespace vlm::jinja {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value value) { variables_[name] = std::move(value); }
  // Dropping the variables when a scope ends breaks the cycles macros create (a macro holds its scope).
  void clear() { variables_.clear(); }

 private:
  std::shared_ptr<Scope> parent_;
  std::unordered_map<std::string, Value> variables_;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const Program& program, bool strict_undefined = false)
      : program_(program), strict_undefined_(strict_undefined) {}
  // Renders with `context` (a dict of variables). Throws vlm::TemplateError.
  std::string render(const Value& context);

  Value call(const Value& callee, CallArgs& args);
  Value call_macro(const MacroDef& macro, const ScopePtr& scope, CallArgs& args);
  // One (recursive) run of a for loop over `iterable`; returns what it printed.
  std::string run_loop(const ForStmt& loop, const ScopePtr& scope, const Value& iterable, int depth);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const Body& body, const ScopePtr& scope);
  Flow exec(const Stmt& stmt, const ScopePtr& scope);
  void exec_for(const ForStmt& stmt, const ScopePtr& scope);
  void exec_call_block(const CallBlockStmt& stmt, const ScopePtr& scope);
  std::string capture(const Body& body, const ScopePtr& scope);
  void step();                          // one more statement or loop iteration: kMaxRenderSteps per render
  void emit(std::string_view text);     // appends to the output, within kMaxStringBytes
  void assign(const Expr& target, const Value& value, const ScopePtr& scope);

  Value eval(const Expr& expr, const ScopePtr& scope);
  Value eval_name(const NameExpr& expr, const ScopePtr& scope);
  Value eval_call(const CallExpr& expr, const ScopePtr& scope, const Value* caller);
  Value eval_filter(const FilterExpr& expr, const ScopePtr& scope, const Value* block_input);
  Value eval_test(const TestExpr& expr, const ScopePtr& scope);
  Value eval_compare(const CompareExpr& expr, const ScopePtr& scope);
  Value eval_getitem(const GetitemExpr& expr, const ScopePtr& scope);
  CallArgs eval_arguments(const Arguments& args, const ScopePtr& scope);

  const Program& program_;
  bool strict_undefined_ = false;  // printing an undefined value fails (jinja2's StrictUndefined on output)
  std::string out_;
  const Node* current_ = nullptr;  // the node being run, for error locations
  int call_depth_ = 0;
  int64_t steps_ = 0;
};

}  // namespace vlm::jinja
