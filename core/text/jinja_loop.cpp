// The for statement and its `loop` variable.
#include "jinja_builtins.hpp"
#include "jinja_objects.hpp"

namespace vlm::jinja {

std::string LoopContext::repr() const { return fmt::format("<LoopContext {}/{}>", index_ + 1, items_.size()); }

std::optional<Value> LoopContext::attribute(const std::string& name) const {
  const int64_t n = static_cast<int64_t>(items_.size()), i = static_cast<int64_t>(index_);
  if (name == "index") return Value(i + 1);
  if (name == "index0") return Value(i);
  if (name == "revindex") return Value(n - i);
  if (name == "revindex0") return Value(n - i - 1);
  if (name == "first") return Value(i == 0);
  if (name == "last") return Value(i == n - 1);
  if (name == "length") return Value(n);
  if (name == "depth") return Value(static_cast<int64_t>(depth_));
  if (name == "depth0") return Value(static_cast<int64_t>(depth_ - 1));
  if (name == "previtem") return i > 0 ? items_[i - 1] : Value::undefined("there is no previous item");
  if (name == "nextitem") return i + 1 < n ? items_[i + 1] : Value::undefined("there is no next item");
  if (name == "cycle") {
    return make_function("cycle", [i](CallArgs& args, Interpreter&) {
      if (args.positional.empty()) render_fail("no items for cycling given");
      return args.positional[static_cast<size_t>(i) % args.positional.size()];
    });
  }
  if (name == "changed") {
    auto last = last_changed_;
    return make_function("changed", [last](CallArgs& args, Interpreter&) {
      bool same = last->has_value() && (*last)->size() == args.positional.size();
      for (size_t k = 0; same && k < args.positional.size(); ++k) same = equals((**last)[k], args.positional[k]);
      if (same) return Value(false);
      *last = args.positional;
      return Value(true);
    });
  }
  return std::nullopt;
}

Value LoopContext::call(CallArgs& args, Interpreter& interpreter) const {
  if (!recursive_loop_) render_fail("'LoopContext' object is not callable");
  if (args.positional.size() != 1 || !args.keywords.empty()) render_fail("loop() takes exactly one argument");
  return Value(interpreter.run_loop(*recursive_loop_, scope_, args.positional[0], depth_ + 1));
}

void Interpreter::exec_for(const ForStmt& stmt, const ScopePtr& scope) {
  Value iterable = eval(*stmt.iterable, scope);
  emit(run_loop(stmt, scope, iterable, 1));
}

std::string Interpreter::run_loop(const ForStmt& stmt, const ScopePtr& scope, const Value& iterable, int depth) {
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) {
      if (++depth > 100) render_fail("maximum recursion depth exceeded (recursive loops and macro calls nest deeper than 100)");
    }
    ~DepthGuard() { --depth; }
    int& depth;
  };
  std::optional<DepthGuard> guard;
  if (depth > 1) guard.emplace(call_depth_);

  std::string saved;
  std::swap(saved, out_);
  struct Restore {
    ~Restore() { std::swap(saved, out); }
    std::string& saved;
    std::string& out;
  } restore{saved, out_};

  std::vector<Value> items = iterate(iterable);
  if (stmt.filter) {  // `for x in xs if cond`: filtered before the loop, so loop.length counts the kept items
    std::vector<Value> kept;
    for (Value& item : items) {
      step();
      auto filter_scope = std::make_shared<Scope>(scope);
      assign(*stmt.target, item, filter_scope);
      bool keep = truthy(eval(*stmt.filter, filter_scope));
      filter_scope->clear();
      if (keep) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    auto else_scope = std::make_shared<Scope>(scope);
    exec_body(stmt.otherwise, else_scope);
    else_scope->clear();
    return std::move(out_);
  }
  auto loop = std::make_shared<LoopContext>(std::move(items), depth, stmt.recursive ? &stmt : nullptr, scope);
  Value loop_value(loop);
  for (size_t i = 0; i < loop->items().size(); ++i) {
    auto iteration = std::make_shared<Scope>(scope);
    struct Clear {
      ~Clear() { s->clear(); }
      Scope* s;
    } clear{iteration.get()};
    step();
    assign(*stmt.target, loop->items()[i], iteration);
    loop->set_index(i);
    iteration->set("loop", loop_value);
    if (exec_body(stmt.body, iteration) == Flow::Break) break;
  }
  return std::move(out_);
}

}  // namespace vlm::jinja
