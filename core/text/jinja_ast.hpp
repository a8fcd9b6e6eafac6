#pragma once
// The parsed form of a template: expressions and statements, each with the line and column it starts at.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja_value.hpp"

namespace vlm::jinja {

struct Node {
  int line = 0, column = 0;
};

struct Expr : Node {
  enum class Kind { Literal, Name, List, Tuple, Dict, Getattr, Getitem, Slice, Call, Filter, Test, Unary, Binary, Concat, Compare, Condition };
  explicit Expr(Kind k) : kind(k) {}
  virtual ~Expr() = default;
  const Kind kind;
};
using ExprPtr = std::unique_ptr<Expr>;

struct LiteralExpr : Expr {
  LiteralExpr() : Expr(Kind::Literal) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr() : Expr(Kind::Name) {}
  std::string name;
};

struct ListExpr : Expr {  // a list literal, or a tuple (Kind::Tuple)
  explicit ListExpr(Kind k) : Expr(k) {}
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  DictExpr() : Expr(Kind::Dict) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct GetattrExpr : Expr {
  GetattrExpr() : Expr(Kind::Getattr) {}
  ExprPtr object;
  std::string name;
};

struct GetitemExpr : Expr {
  GetitemExpr() : Expr(Kind::Getitem) {}
  ExprPtr object, index;
};

struct SliceExpr : Expr {  // only as a GetitemExpr index; missing bounds are null
  SliceExpr() : Expr(Kind::Slice) {}
  ExprPtr start, stop, step;
};

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  ExprPtr star_args, star_kwargs;  // *args, **kwargs
};

struct CallExpr : Expr {
  CallExpr() : Expr(Kind::Call) {}
  ExprPtr callee;
  Arguments args;
};

struct FilterExpr : Expr {  // `operand | name(args)`; operand is null for the filter of a block
  FilterExpr() : Expr(Kind::Filter) {}
  ExprPtr operand;
  std::string name;
  Arguments args;
};

struct TestExpr : Expr {  // `operand is name(args)`; `is not` wraps it in a UnaryExpr Not
  TestExpr() : Expr(Kind::Test) {}
  ExprPtr operand;
  std::string name;
  Arguments args;
};

struct UnaryExpr : Expr {
  enum class Op { Not, Negate, Plus };
  UnaryExpr() : Expr(Kind::Unary) {}
  Op op = Op::Not;
  ExprPtr operand;
};

struct BinaryExpr : Expr {
  enum class Op { Add, Subtract, Multiply, Divide, FloorDivide, Modulo, Power, And, Or };
  BinaryExpr() : Expr(Kind::Binary) {}
  Op op = Op::Add;
  ExprPtr left, right;
};

struct ConcatExpr : Expr {  // a ~ b ~ c
  ConcatExpr() : Expr(Kind::Concat) {}
  std::vector<ExprPtr> parts;
};

enum class CompareOp { Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, In, NotIn };

struct CompareExpr : Expr {  // chained like Python: a < b < c
  CompareExpr() : Expr(Kind::Compare) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct ConditionExpr : Expr {  // `then if test else otherwise`; otherwise may be null (undefined)
  ConditionExpr() : Expr(Kind::Condition) {}
  ExprPtr test, then, otherwise;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt : Node {
  enum class Kind { Text, Print, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, With, Break, Continue, Plain };
  explicit Stmt(Kind k) : kind(k) {}
  virtual ~Stmt() = default;
  const Kind kind;
};

struct TextStmt : Stmt {
  TextStmt() : Stmt(Kind::Text) {}
  std::string text;
};

struct PrintStmt : Stmt {  // {{ expr }}
  PrintStmt() : Stmt(Kind::Print) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  IfStmt() : Stmt(Kind::If) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, elif...
  Body otherwise;
};

// Assignment targets are NameExpr, ListExpr(Tuple) of targets, or GetattrExpr on a name (namespace attribute).
struct ForStmt : Stmt {
  ForStmt() : Stmt(Kind::For) {}
  ExprPtr target, iterable, filter;  // filter: `for x in xs if cond`, may be null
  bool recursive = false;
  Body body, otherwise;
};

struct SetStmt : Stmt {
  SetStmt() : Stmt(Kind::Set) {}
  ExprPtr target, value;
};

struct SetBlockStmt : Stmt {  // {% set x | filter %}...{% endset %}
  SetBlockStmt() : Stmt(Kind::SetBlock) {}
  ExprPtr target;
  ExprPtr filter;  // may be null
  Body body;
};

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  Body body;
  // Whether the body mentions these names: then the macro accepts them (jinja2 decides the same way).
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
};

struct MacroStmt : Stmt {
  MacroStmt() : Stmt(Kind::Macro) {}
  std::shared_ptr<const MacroDef> macro;
};

struct CallBlockStmt : Stmt {  // {% call(args) callee(...) %}body{% endcall %}
  CallBlockStmt() : Stmt(Kind::CallBlock) {}
  std::shared_ptr<const MacroDef> caller;
  ExprPtr call;
};

struct FilterBlockStmt : Stmt {
  FilterBlockStmt() : Stmt(Kind::FilterBlock) {}
  ExprPtr filter;
  Body body;
};

struct WithStmt : Stmt {
  WithStmt() : Stmt(Kind::With) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> assignments;
  Body body;
};

struct ControlStmt : Stmt {  // break / continue
  explicit ControlStmt(Kind k) : Stmt(k) {}
};

struct PlainStmt : Stmt {  // {% block %} and HF's {% generation %}: the body, rendered in place
  PlainStmt() : Stmt(Kind::Plain) {}
  Body body;
};

struct Program {
  std::string origin;
  Body body;
};

}  // namespace vlm::jinja
