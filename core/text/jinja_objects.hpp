#pragma once
// Template objects that run template code: macros (and `caller`) and the `loop` variable of for loops.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jinja_interpreter.hpp"

namespace vlm::jinja {

class MacroObject : public Object {
 public:
  MacroObject(std::shared_ptr<const MacroDef> macro, ScopePtr scope) : macro_(std::move(macro)), scope_(std::move(scope)) {}
  std::string type_name() const override { return "Macro"; }
  std::string repr() const override { return "<Macro '" + macro_->name + "'>"; }
  std::optional<Value> attribute(const std::string& name) const override;
  bool is_callable() const override { return true; }
  Value call(CallArgs& args, Interpreter& interpreter) const override;

 private:
  std::shared_ptr<const MacroDef> macro_;
  ScopePtr scope_;  // where the macro was defined: it reads outer variables through it
};

// jinja2's LoopContext: one object per loop run, advanced in place each iteration.
class LoopContext : public Object {
 public:
  LoopContext(std::vector<Value> items, int depth, const ForStmt* recursive_loop, ScopePtr scope)
      : items_(std::move(items)), depth_(depth), recursive_loop_(recursive_loop), scope_(std::move(scope)) {}
  std::string type_name() const override { return "LoopContext"; }
  std::string repr() const override;
  std::optional<Value> attribute(const std::string& name) const override;
  // Only recursive loops are callable: loop(children) renders the loop body over `children`.
  bool is_callable() const override { return recursive_loop_ != nullptr; }
  Value call(CallArgs& args, Interpreter& interpreter) const override;

  const std::vector<Value>& items() const { return items_; }
  void set_index(size_t index) { index_ = index; }

 private:
  std::vector<Value> items_;
  size_t index_ = 0;
  int depth_;
  const ForStmt* recursive_loop_;
  ScopePtr scope_;
  std::shared_ptr<std::optional<std::vector<Value>>> last_changed_ = std::make_shared<std::optional<std::vector<Value>>>();
};

}  // namespace vlm::jinja
