// Statement execution, assignment and the top-level render.
#include "jinja_builtins.hpp"
#include "jinja_objects.hpp"
#include "vlm/text/chat_template.hpp"

namespace vlm::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    auto it = s->variables_.find(name);
    if (it != s->variables_.end()) return &it->second;
  }
  return nullptr;
}

std::string Interpreter::render(const Value& context) {
  auto globals = std::make_shared<Scope>();
  for (const auto& [name, function] : global_functions().entries) globals->set(name.as_string(), function);
  for (const auto& [name, value] : context.dict().entries) globals->set(to_str(name), value);
  auto top = std::make_shared<Scope>(globals);
  struct Clear {
    ~Clear() {
      top->clear();
      globals->clear();
    }
    Scope* top;
    Scope* globals;
  } clear{top.get(), globals.get()};
  out_.clear();
  steps_ = 0;
  try {
    exec_body(program_.body, top);
  } catch (const RenderFailure& failure) {
    int line = current_ ? current_->line : 0, column = current_ ? current_->column : 0;
    throw TemplateError(failure.what(), program_.origin, line, column);
  }
  return std::move(out_);
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const ScopePtr& scope) {
  for (const StmtPtr& stmt : body) {
    Flow flow = exec(*stmt, scope);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

std::string Interpreter::capture(const Body& body, const ScopePtr& scope) {
  std::string saved;
  std::swap(saved, out_);
  struct Restore {
    ~Restore() { std::swap(saved, out); }
    std::string& saved;
    std::string& out;
  } restore{saved, out_};
  auto inner = std::make_shared<Scope>(scope);
  exec_body(body, inner);
  inner->clear();
  return std::move(out_);
}

void Interpreter::step() {
  if (++steps_ > kMaxRenderSteps)
    render_fail("the template ran more than {} statements and loop iterations; it is refused as runaway", kMaxRenderSteps);
}

void Interpreter::emit(std::string_view text) {
  check_string_size(out_.size() + text.size());
  out_ += text;
}

Interpreter::Flow Interpreter::exec(const Stmt& stmt, const ScopePtr& scope) {
  current_ = &stmt;
  step();
  switch (stmt.kind) {
    case Stmt::Kind::Text: emit(static_cast<const TextStmt&>(stmt).text); break;
    case Stmt::Kind::Print: {
      const Value value = eval(*static_cast<const PrintStmt&>(stmt).expr, scope);
      if (strict_undefined_ && value.is_undefined()) fail_undefined(value);
      emit(to_str(value));
      break;
    }
    case Stmt::Kind::If: {
      const auto& s = static_cast<const IfStmt&>(stmt);
      for (const auto& [test, body] : s.branches)
        if (truthy(eval(*test, scope))) return exec_body(body, scope);
      return exec_body(s.otherwise, scope);
    }
    case Stmt::Kind::For: exec_for(static_cast<const ForStmt&>(stmt), scope); break;
    case Stmt::Kind::Set: {
      const auto& s = static_cast<const SetStmt&>(stmt);
      assign(*s.target, eval(*s.value, scope), scope);
      break;
    }
    case Stmt::Kind::SetBlock: {
      const auto& s = static_cast<const SetBlockStmt&>(stmt);
      Value value(capture(s.body, scope));
      if (s.filter) value = eval_filter(static_cast<const FilterExpr&>(*s.filter), scope, &value);
      assign(*s.target, value, scope);
      break;
    }
    case Stmt::Kind::Macro: {
      const auto& s = static_cast<const MacroStmt&>(stmt);
      scope->set(s.macro->name, Value(std::make_shared<MacroObject>(s.macro, scope)));
      break;
    }
    case Stmt::Kind::CallBlock: exec_call_block(static_cast<const CallBlockStmt&>(stmt), scope); break;
    case Stmt::Kind::FilterBlock: {
      const auto& s = static_cast<const FilterBlockStmt&>(stmt);
      Value body(capture(s.body, scope));
      emit(to_str(eval_filter(static_cast<const FilterExpr&>(*s.filter), scope, &body)));
      break;
    }
    case Stmt::Kind::With: {
      const auto& s = static_cast<const WithStmt&>(stmt);
      auto inner = std::make_shared<Scope>(scope);
      std::vector<Value> values;
      for (const auto& assignment : s.assignments) values.push_back(eval(*assignment.second, scope));
      for (size_t i = 0; i < values.size(); ++i) assign(*s.assignments[i].first, values[i], inner);
      Flow flow = exec_body(s.body, inner);
      inner->clear();
      return flow;
    }
    case Stmt::Kind::Break: return Flow::Break;
    case Stmt::Kind::Continue: return Flow::Continue;
    case Stmt::Kind::Plain: return exec_body(static_cast<const PlainStmt&>(stmt).body, scope);
  }
  return Flow::Normal;
}

void Interpreter::assign(const Expr& target, const Value& value, const ScopePtr& scope) {
  switch (target.kind) {
    case Expr::Kind::Name: scope->set(static_cast<const NameExpr&>(target).name, value); return;
    case Expr::Kind::Tuple: {
      const auto& names = static_cast<const ListExpr&>(target).items;
      std::vector<Value> items = iterate(value);
      if (items.size() < names.size())
        render_fail("not enough values to unpack (expected {}, got {})", names.size(), items.size());
      if (items.size() > names.size()) render_fail("too many values to unpack (expected {})", names.size());
      for (size_t i = 0; i < names.size(); ++i) assign(*names[i], items[i], scope);
      return;
    }
    case Expr::Kind::Getattr: {
      const auto& ref = static_cast<const GetattrExpr&>(target);
      const Value* holder = scope->find(static_cast<const NameExpr&>(*ref.object).name);
      auto* ns = holder && holder->is_object() ? dynamic_cast<Namespace*>(holder->object().get()) : nullptr;
      if (!ns) render_fail("Cannot assign attribute on non-namespace object");
      ns->attributes.set(Value(ref.name), value);
      return;
    }
    default: render_fail("can't assign to this expression");
  }
}

}  // namespace vlm::jinja
