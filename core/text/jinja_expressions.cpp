// Expression evaluation.
#include "jinja_builtins.hpp"
#include "jinja_interpreter.hpp"
#include "jinja_operators.hpp"

namespace vlm::jinja {

Value Interpreter::eval(const Expr& expr, const ScopePtr& scope) {
  current_ = &expr;
  switch (expr.kind) {
    case Expr::Kind::Literal: return static_cast<const LiteralExpr&>(expr).value;
    case Expr::Kind::Name: return eval_name(static_cast<const NameExpr&>(expr), scope);
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
      std::vector<Value> items;
      for (const auto& item : static_cast<const ListExpr&>(expr).items) items.push_back(eval(*item, scope));
      return Value::sequence(std::move(items), expr.kind == Expr::Kind::List ? SeqKind::List : SeqKind::Tuple);
    }
    case Expr::Kind::Dict: {
      Dict dict;
      for (const auto& [key, value] : static_cast<const DictExpr&>(expr).items) {
        Value k = eval(*key, scope);
        dict.set(k, eval(*value, scope));
      }
      return Value::make_dict(std::move(dict));
    }
    case Expr::Kind::Getattr: {
      const auto& e = static_cast<const GetattrExpr&>(expr);
      Value object = eval(*e.object, scope);
      current_ = &expr;
      return get_attribute(object, e.name);
    }
    case Expr::Kind::Getitem: return eval_getitem(static_cast<const GetitemExpr&>(expr), scope);
    case Expr::Kind::Slice: render_fail("a slice is only valid inside []");
    case Expr::Kind::Call: return eval_call(static_cast<const CallExpr&>(expr), scope, nullptr);
    case Expr::Kind::Filter: return eval_filter(static_cast<const FilterExpr&>(expr), scope, nullptr);
    case Expr::Kind::Test: return eval_test(static_cast<const TestExpr&>(expr), scope);
    case Expr::Kind::Unary: {
      const auto& e = static_cast<const UnaryExpr&>(expr);
      Value operand = eval(*e.operand, scope);
      current_ = &expr;
      if (e.op == UnaryExpr::Op::Not) return Value(!truthy(operand));
      return negate(operand, e.op == UnaryExpr::Op::Negate);
    }
    case Expr::Kind::Binary: {
      const auto& e = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*e.left, scope);
      // Python's and/or return an operand, not a bool.
      if (e.op == BinaryExpr::Op::And) return truthy(left) ? eval(*e.right, scope) : left;
      if (e.op == BinaryExpr::Op::Or) return truthy(left) ? left : eval(*e.right, scope);
      Value right = eval(*e.right, scope);
      current_ = &expr;
      return arithmetic(e.op, left, right);
    }
    case Expr::Kind::Concat: {
      std::string out;
      for (const auto& part : static_cast<const ConcatExpr&>(expr).parts) {
        const std::string piece = to_str(eval(*part, scope));
        check_string_size(out.size() + piece.size());
        out += piece;
      }
      return Value(std::move(out));
    }
    case Expr::Kind::Compare: return eval_compare(static_cast<const CompareExpr&>(expr), scope);
    case Expr::Kind::Condition: {
      const auto& e = static_cast<const ConditionExpr&>(expr);
      if (truthy(eval(*e.test, scope))) return eval(*e.then, scope);
      if (e.otherwise) return eval(*e.otherwise, scope);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.", expr.line));
    }
  }
  return Value();
}

Value Interpreter::eval_name(const NameExpr& expr, const ScopePtr& scope) {
  if (const Value* value = scope->find(expr.name)) return *value;
  return Value::undefined(fmt::format("'{}' is undefined", expr.name));
}

CallArgs Interpreter::eval_arguments(const Arguments& args, const ScopePtr& scope) {
  CallArgs out;
  for (const auto& arg : args.positional) out.positional.push_back(eval(*arg, scope));
  for (const auto& [name, arg] : args.keywords) out.keywords.emplace_back(name, eval(*arg, scope));
  if (args.star_args)
    for (Value& v : iterate(eval(*args.star_args, scope))) out.positional.push_back(std::move(v));
  if (args.star_kwargs) {
    Value kwargs = eval(*args.star_kwargs, scope);
    if (!kwargs.is_dict()) render_fail("argument after ** must be a mapping, not {}", type_name(kwargs));
    for (const auto& [key, value] : kwargs.dict().entries) {
      if (!key.is_string()) render_fail("keywords must be strings");
      out.keywords.emplace_back(key.as_string(), value);
    }
  }
  return out;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (!callee.is_object() || !callee.object()->is_callable()) render_fail("'{}' object is not callable", type_name(callee));
  return callee.object()->call(args, *this);
}

Value Interpreter::eval_call(const CallExpr& expr, const ScopePtr& scope, const Value* caller) {
  Value callee = eval(*expr.callee, scope);
  CallArgs args = eval_arguments(expr.args, scope);
  if (caller) args.keywords.emplace_back("caller", *caller);
  current_ = &expr;
  return call(callee, args);
}

Value Interpreter::eval_filter(const FilterExpr& expr, const ScopePtr& scope, const Value* block_input) {
  Value operand;
  if (!expr.operand) operand = *block_input;
  else if (block_input && expr.operand->kind == Expr::Kind::Filter)
    operand = eval_filter(static_cast<const FilterExpr&>(*expr.operand), scope, block_input);
  else operand = eval(*expr.operand, scope);
  CallArgs args = eval_arguments(expr.args, scope);
  current_ = &expr;
  return apply_filter(*this, expr.name, operand, args);
}

Value Interpreter::eval_test(const TestExpr& expr, const ScopePtr& scope) {
  Value operand = eval(*expr.operand, scope);
  CallArgs args = eval_arguments(expr.args, scope);
  current_ = &expr;
  return Value(apply_test(*this, expr.name, operand, args));
}

Value Interpreter::eval_compare(const CompareExpr& expr, const ScopePtr& scope) {
  Value left = eval(*expr.first, scope);
  for (const auto& [op, operand] : expr.rest) {
    Value right = eval(*operand, scope);
    current_ = &expr;
    if (!compare(op, left, right)) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Interpreter::eval_getitem(const GetitemExpr& expr, const ScopePtr& scope) {
  Value object = eval(*expr.object, scope);
  if (expr.index->kind == Expr::Kind::Slice) {
    const auto& s = static_cast<const SliceExpr&>(*expr.index);
    auto bound = [&](const ExprPtr& e) { return e ? eval(*e, scope) : Value::none(); };
    Value start = bound(s.start), stop = bound(s.stop), step = bound(s.step);
    current_ = &expr;
    return slice(object, start, stop, step);
  }
  Value key = eval(*expr.index, scope);
  current_ = &expr;
  return get_item(object, key);
}

}  // namespace vlm::jinja
