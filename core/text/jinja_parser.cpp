#include "jinja_parser.hpp"

#include <algorithm>

#include "jinja_lexer.hpp"
#include "vlm/text/chat_template.hpp"

namespace vlm::jinja {
namespace {

// Deeper nesting is refused rather than risking the native stack (Python would raise RecursionError).
constexpr int kMaxNesting = 120;

using Names = std::vector<std::string>;

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string origin) : tokens_(std::move(tokens)), origin_(std::move(origin)) {}

  std::shared_ptr<const Program> run() {
    auto program = std::make_shared<Program>();
    program->origin = origin_;
    program->body = subparse({});
    return program;
  }

 private:
  // ---- token stream ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  const Token& advance() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool is_op(const Token& t, std::string_view op) const { return t.type == TokenType::Operator && t.text == op; }
  bool is_op(std::string_view op) const { return is_op(cur(), op); }
  bool is_name(const Token& t, std::string_view name) const { return t.type == TokenType::Name && t.text == name; }
  bool is_name(std::string_view name) const { return is_name(cur(), name); }
  bool skip_op(std::string_view op) { return is_op(op) ? (advance(), true) : false; }
  bool skip_name(std::string_view name) { return is_name(name) ? (advance(), true) : false; }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::Data: return "template data";
      case TokenType::VariableBegin: return "begin of print statement";
      case TokenType::VariableEnd: return "end of print statement";
      case TokenType::BlockBegin: return "begin of statement block";
      case TokenType::BlockEnd: return "end of statement block";
      case TokenType::String: return "string";
      case TokenType::Integer: return "integer";
      case TokenType::Float: return "float";
      case TokenType::End: return "end of template";
      default: return t.text;
    }
  }

  [[noreturn]] void fail(const std::string& message, const Token& at) const {
    throw TemplateError(message, origin_, at.line, at.column);
  }
  [[noreturn]] void fail(const std::string& message) const { fail(message, cur()); }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail(fmt::format("expected token '{}', got '{}'", op, describe(cur())));
  }
  void expect(TokenType type, std::string_view what) {
    if (cur().type != type) fail(fmt::format("expected token '{}', got '{}'", what, describe(cur())));
    advance();
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) fail(fmt::format("expected token 'name', got '{}'", describe(cur())));
    return advance().text;
  }
  void expect_name(std::string_view name) {
    if (!skip_name(name)) fail(fmt::format("expected token '{}', got '{}'", name, describe(cur())));
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting) parser.fail(fmt::format("template nesting is deeper than {} levels", kMaxNesting));
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  template <typename T>
  std::unique_ptr<T> node(const Token& at) {
    auto n = std::make_unique<T>();
    n->line = at.line;
    n->column = at.column;
    return n;
  }

  // ---- statements ----
  Body subparse(const Names& end_names) {
    Body body;
    if (!end_names.empty()) end_stack_.push_back(end_names);
    while (cur().type != TokenType::End) {
      const Token& token = cur();
      if (token.type == TokenType::Data) {
        auto text = node<TextStmt>(token);
        text->text = token.text;
        body.push_back(std::move(text));
        advance();
      } else if (token.type == TokenType::VariableBegin) {
        advance();
        auto print = node<PrintStmt>(token);
        print->expr = parse_tuple(false, true, {}, false);
        expect(TokenType::VariableEnd, "end of print statement");
        body.push_back(std::move(print));
      } else if (token.type == TokenType::BlockBegin) {
        advance();
        if (cur().type == TokenType::Name && std::find(end_names.begin(), end_names.end(), cur().text) != end_names.end()) {
          end_stack_.pop_back();
          return body;
        }
        body.push_back(parse_statement());
        expect(TokenType::BlockEnd, "end of statement block");
      } else {
        fail(fmt::format("unexpected '{}'", describe(token)));
      }
    }
    if (!end_names.empty()) fail_unknown_or_eof("");
    return body;
  }

  [[noreturn]] void fail_unknown_or_eof(const std::string& tag) {
    std::string message = tag.empty() ? "Unexpected end of template." : fmt::format("Encountered unknown tag '{}'.", tag);
    if (!end_stack_.empty()) {
      std::string looking;
      for (const auto& name : end_stack_.back()) looking += (looking.empty() ? "'" : " or '") + name + "'";
      bool expected_elsewhere = false;
      for (const auto& names : end_stack_)
        if (std::find(names.begin(), names.end(), tag) != names.end()) expected_elsewhere = true;
      if (!tag.empty() && expected_elsewhere)
        message += " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for " + looking + ".";
      else
        message += " Jinja was looking for the following tags: " + looking + ".";
    }
    if (!tag_stack_.empty()) message += fmt::format(" The innermost block that needs to be closed is '{}'.", tag_stack_.back());
    fail(message);
  }

  // Parses a statement's body up to one of `end_names`; with `drop_end` the end name is consumed.
  Body parse_statements(const Names& end_names, bool drop_end) {
    skip_op(":");
    expect(TokenType::BlockEnd, "end of statement block");
    Body body = subparse(end_names);
    if (drop_end) advance();
    return body;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);
    const Token& token = cur();
    if (token.type != TokenType::Name) fail("tag name expected");
    const std::string tag = token.text;
    static const Names known = {"for", "if", "set", "macro", "call", "filter", "with", "break", "continue",
                                "block", "generation", "print", "autoescape"};
    if (std::find(known.begin(), known.end(), tag) == known.end()) {
      if (tag == "include" || tag == "import" || tag == "from" || tag == "extends")
        fail(fmt::format("'{}' is not supported: chat templates cannot load other templates", tag));
      fail_unknown_or_eof(tag);
    }
    tag_stack_.push_back(tag);
    StmtPtr result;
    if (tag == "for") result = parse_for();
    else if (tag == "if") result = parse_if();
    else if (tag == "set") result = parse_set();
    else if (tag == "macro") result = parse_macro();
    else if (tag == "call") result = parse_call_block();
    else if (tag == "filter") result = parse_filter_block();
    else if (tag == "with") result = parse_with();
    else if (tag == "break" || tag == "continue") {
      result = std::make_unique<ControlStmt>(tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue);
      result->line = token.line;
      result->column = token.column;
      advance();
    } else result = parse_plain(tag);
    tag_stack_.pop_back();
    return result;
  }

  StmtPtr parse_for() {
    auto stmt = node<ForStmt>(advance());
    stmt->target = parse_assign_target(true, false, {"in"}, false);
    expect_name("in");
    stmt->iterable = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) stmt->filter = parse_expression(true);
    stmt->recursive = skip_name("recursive");
    stmt->body = parse_statements({"endfor", "else"}, false);
    if (advance().text == "else") stmt->otherwise = parse_statements({"endfor"}, true);
    return stmt;
  }

  StmtPtr parse_if() {
    auto stmt = node<IfStmt>(advance());
    for (;;) {
      ExprPtr test = parse_tuple(false, false, {}, false);
      Body body = parse_statements({"elif", "else", "endif"}, false);
      stmt->branches.emplace_back(std::move(test), std::move(body));
      const Token& end = advance();
      if (end.text == "elif") continue;
      if (end.text == "else") stmt->otherwise = parse_statements({"endif"}, true);
      break;
    }
    return stmt;
  }

  StmtPtr parse_set() {
    const Token& start = advance();
    ExprPtr target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      auto stmt = node<SetStmt>(start);
      stmt->target = std::move(target);
      stmt->value = parse_tuple(false, true, {}, false);
      return stmt;
    }
    auto stmt = node<SetBlockStmt>(start);
    stmt->target = std::move(target);
    stmt->filter = parse_filter(nullptr, false);
    stmt->body = parse_statements({"endset"}, true);
    return stmt;
  }

  void parse_signature(MacroDef& macro) {
    expect_op("(");
    while (!is_op(")")) {
      if (!macro.params.empty()) expect_op(",");
      macro.params.push_back(expect_name());
      if (skip_op("=")) macro.defaults.push_back(parse_expression(true));
      else if (!macro.defaults.empty()) fail("non-default argument follows default argument");
    }
    expect_op(")");
  }

  // The macro body is parsed with the definition open so that names it mentions are recorded.
  void parse_macro_body(MacroDef& macro, const char* end_name) {
    open_macros_.push_back(&macro);
    macro.body = parse_statements({end_name}, true);
    open_macros_.pop_back();
  }

  StmtPtr parse_macro() {
    auto stmt = node<MacroStmt>(advance());
    auto macro = std::make_shared<MacroDef>();
    macro->name = expect_name();
    parse_signature(*macro);
    parse_macro_body(*macro, "endmacro");
    stmt->macro = std::move(macro);
    return stmt;
  }

  StmtPtr parse_call_block() {
    auto stmt = node<CallBlockStmt>(advance());
    auto caller = std::make_shared<MacroDef>();
    caller->name = "caller";
    if (is_op("(")) parse_signature(*caller);
    const Token& call_token = cur();
    stmt->call = parse_expression(true);
    if (stmt->call->kind != Expr::Kind::Call) fail("expected call", call_token);
    parse_macro_body(*caller, "endcall");
    stmt->caller = std::move(caller);
    return stmt;
  }

  StmtPtr parse_filter_block() {
    auto stmt = node<FilterBlockStmt>(advance());
    stmt->filter = parse_filter(nullptr, true);
    stmt->body = parse_statements({"endfilter"}, true);
    return stmt;
  }

  StmtPtr parse_with() {
    auto stmt = node<WithStmt>(advance());
    while (cur().type != TokenType::BlockEnd) {
      if (!stmt->assignments.empty()) expect_op(",");
      ExprPtr target = parse_assign_target(true, false, {}, false);
      expect_op("=");
      stmt->assignments.emplace_back(std::move(target), parse_expression(true));
    }
    stmt->body = parse_statements({"endwith"}, true);
    return stmt;
  }

  // block, generation, print, autoescape.
  StmtPtr parse_plain(const std::string& tag) {
    auto stmt = node<PlainStmt>(advance());
    if (tag == "print") {
      while (cur().type != TokenType::BlockEnd) {
        if (!stmt->body.empty()) expect_op(",");
        auto print = node<PrintStmt>(cur());
        print->expr = parse_expression(true);
        stmt->body.push_back(std::move(print));
      }
      return stmt;
    }
    if (tag == "block") {
      expect_name();
      skip_name("scoped");
      skip_name("required");
    } else if (tag == "autoescape") {
      parse_expression(true);
    }
    std::string end_name = "end" + tag;
    stmt->body = parse_statements({end_name}, true);
    if (tag == "block" && cur().type == TokenType::Name) advance();  // {% endblock name %}
    return stmt;
  }

  // ---- assignment targets ----
  ExprPtr parse_assign_target(bool with_tuple, bool name_only, const Names& extra_end, bool with_namespace) {
    const Token& start = cur();
    ExprPtr target;
    if (name_only) {
      auto name = node<NameExpr>(start);
      name->name = expect_name();
      return name;
    }
    target = with_tuple ? parse_tuple(true, true, extra_end, false, with_namespace) : parse_primary(with_namespace);
    check_assignable(*target, start);
    return target;
  }

  void check_assignable(const Expr& target, const Token& at) {
    if (target.kind == Expr::Kind::Name) return;
    if (target.kind == Expr::Kind::Getattr &&
        static_cast<const GetattrExpr&>(target).object->kind == Expr::Kind::Name)
      return;
    if (target.kind == Expr::Kind::Tuple) {
      for (const auto& item : static_cast<const ListExpr&>(target).items) check_assignable(*item, at);
      return;
    }
    fail("can't assign to this expression", at);
  }

  // ---- expressions ----
  bool is_tuple_end(const Names& extra_end) const {
    if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
    for (const auto& name : extra_end)
      if (is_name(name)) return true;
    return false;
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const Names& extra_end, bool explicit_parentheses,
                      bool with_namespace = false) {
    const Token& start = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) fail(fmt::format("Expected an expression, got '{}'", describe(cur())));
    }
    auto tuple = std::make_unique<ListExpr>(Expr::Kind::Tuple);
    tuple->line = start.line;
    tuple->column = start.column;
    tuple->items = std::move(items);
    return tuple;
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    const Token& start = cur();
    ExprPtr expr = parse_or();
    while (skip_name("if")) {
      auto cond = node<ConditionExpr>(start);
      cond->then = std::move(expr);
      cond->test = parse_or();
      if (skip_name("else")) cond->otherwise = parse_condexpr();
      expr = std::move(cond);
    }
    return expr;
  }

  ExprPtr binary(const Token& at, BinaryExpr::Op op, ExprPtr left, ExprPtr right) {
    auto b = node<BinaryExpr>(at);
    b->op = op;
    b->left = std::move(left);
    b->right = std::move(right);
    return b;
  }

  ExprPtr parse_or() {
    const Token& start = cur();
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(start, BinaryExpr::Op::Or, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    const Token& start = cur();
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(start, BinaryExpr::Op::And, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto n = node<UnaryExpr>(advance());
      n->op = UnaryExpr::Op::Not;
      n->operand = parse_not();
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& start = cur();
    ExprPtr first = parse_math1();
    std::vector<std::pair<CompareOp, ExprPtr>> rest;
    static const std::pair<const char*, CompareOp> ops[] = {
        {"==", CompareOp::Equal}, {"!=", CompareOp::NotEqual}, {"<", CompareOp::Less},
        {"<=", CompareOp::LessEqual}, {">", CompareOp::Greater}, {">=", CompareOp::GreaterEqual}};
    for (;;) {
      bool matched = false;
      for (const auto& [text, op] : ops)
        if (is_op(text)) {
          advance();
          rest.emplace_back(op, parse_math1());
          matched = true;
          break;
        }
      if (matched) continue;
      if (skip_name("in")) {
        rest.emplace_back(CompareOp::In, parse_math1());
      } else if (is_name("not") && is_name(peek(), "in")) {
        advance();
        advance();
        rest.emplace_back(CompareOp::NotIn, parse_math1());
      } else {
        break;
      }
    }
    if (rest.empty()) return first;
    auto compare = node<CompareExpr>(start);
    compare->first = std::move(first);
    compare->rest = std::move(rest);
    return compare;
  }

  ExprPtr parse_math1() {
    const Token& start = cur();
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      auto op = advance().text == "+" ? BinaryExpr::Op::Add : BinaryExpr::Op::Subtract;
      left = binary(start, op, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    const Token& start = cur();
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto concat = node<ConcatExpr>(start);
    concat->parts.push_back(std::move(first));
    while (skip_op("~")) concat->parts.push_back(parse_math2());
    return concat;
  }

  ExprPtr parse_math2() {
    const Token& start = cur();
    ExprPtr left = parse_pow();
    for (;;) {
      BinaryExpr::Op op;
      if (is_op("*")) op = BinaryExpr::Op::Multiply;
      else if (is_op("/")) op = BinaryExpr::Op::Divide;
      else if (is_op("//")) op = BinaryExpr::Op::FloorDivide;
      else if (is_op("%")) op = BinaryExpr::Op::Modulo;
      else break;
      advance();
      left = binary(start, op, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {  // left-associative in jinja2: 2**3**2 == 64
    const Token& start = cur();
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary(start, BinaryExpr::Op::Power, std::move(left), parse_unary(true));
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    const Token& start = cur();
    ExprPtr expr;
    if (is_op("-") || is_op("+")) {
      auto unary = node<UnaryExpr>(start);
      unary->op = advance().text == "-" ? UnaryExpr::Op::Negate : UnaryExpr::Op::Plus;
      unary->operand = parse_unary(false);
      expr = std::move(unary);
    } else {
      expr = parse_primary(false);
    }
    expr = parse_postfix(std::move(expr));
    if (with_filter) expr = parse_filter_expr(std::move(expr));
    return expr;
  }

  ExprPtr parse_primary(bool with_namespace) {
    DepthGuard guard(*this);
    const Token& token = cur();
    if (token.type == TokenType::Name) {
      advance();
      if (token.text == "true" || token.text == "True" || token.text == "false" || token.text == "False") {
        auto literal = node<LiteralExpr>(token);
        literal->value = Value(token.text == "true" || token.text == "True");
        return literal;
      }
      if (token.text == "none" || token.text == "None") {
        auto literal = node<LiteralExpr>(token);
        literal->value = Value::none();
        return literal;
      }
      auto name = node<NameExpr>(token);
      name->name = token.text;
      note_name(token.text);
      if (with_namespace && is_op(".")) {
        advance();
        auto ref = node<GetattrExpr>(token);
        ref->object = std::move(name);
        ref->name = expect_name();
        return ref;
      }
      return name;
    }
    if (token.type == TokenType::String) {
      auto literal = node<LiteralExpr>(token);
      std::string text;
      while (cur().type == TokenType::String) text += advance().text;
      literal->value = Value(std::move(text));
      return literal;
    }
    if (token.type == TokenType::Integer || token.type == TokenType::Float) {
      auto literal = node<LiteralExpr>(token);
      literal->value = token.type == TokenType::Integer ? Value(token.integer) : Value(token.number);
      advance();
      return literal;
    }
    if (is_op("(")) {
      advance();
      ExprPtr inner = parse_tuple(false, true, {}, true);
      expect_op(")");
      return inner;
    }
    if (is_op("[")) return parse_list();
    if (is_op("{")) return parse_dict();
    fail(fmt::format("unexpected '{}'", describe(token)));
  }

  void note_name(const std::string& name) {
    for (MacroDef* macro : open_macros_) {
      if (name == "caller") macro->uses_caller = true;
      if (name == "varargs") macro->uses_varargs = true;
      if (name == "kwargs") macro->uses_kwargs = true;
    }
  }

  ExprPtr parse_list() {
    auto list = std::make_unique<ListExpr>(Expr::Kind::List);
    list->line = cur().line;
    list->column = cur().column;
    expect_op("[");
    while (!is_op("]")) {
      if (!list->items.empty()) expect_op(",");
      if (is_op("]")) break;
      list->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return list;
  }

  ExprPtr parse_dict() {
    auto dict = node<DictExpr>(cur());
    expect_op("{");
    while (!is_op("}")) {
      if (!dict->items.empty()) expect_op(",");
      if (is_op("}")) break;
      ExprPtr key = parse_expression(true);
      expect_op(":");
      dict->items.emplace_back(std::move(key), parse_expression(true));
    }
    expect_op("}");
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr expr) {
    for (;;) {
      if (is_op(".") || is_op("[")) expr = parse_subscript(std::move(expr));
      else if (is_op("(")) expr = parse_call(std::move(expr));
      else return expr;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr expr) {
    for (;;) {
      if (is_op("|")) expr = parse_filter(std::move(expr), false);
      else if (is_name("is")) expr = parse_test(std::move(expr));
      else if (is_op("(")) expr = parse_call(std::move(expr));
      else return expr;
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const Token& token = advance();
    if (token.text == ".") {
      const Token& attr = advance();
      if (attr.type == TokenType::Name) {
        auto get = node<GetattrExpr>(token);
        get->object = std::move(object);
        get->name = attr.text;
        return get;
      }
      if (attr.type != TokenType::Integer) fail("expected name or number", attr);
      auto get = node<GetitemExpr>(token);
      get->object = std::move(object);
      auto index = node<LiteralExpr>(attr);
      index->value = Value(attr.integer);
      get->index = std::move(index);
      return get;
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto get = node<GetitemExpr>(token);
    get->object = std::move(object);
    if (args.size() == 1) {
      get->index = std::move(args[0]);
    } else {
      auto tuple = std::make_unique<ListExpr>(Expr::Kind::Tuple);
      tuple->line = token.line;
      tuple->column = token.column;
      tuple->items = std::move(args);
      get->index = std::move(tuple);
    }
    return get;
  }

  ExprPtr parse_subscribed() {
    const Token& start = cur();
    ExprPtr first;
    if (!skip_op(":")) {
      first = parse_expression(true);
      if (!skip_op(":")) return first;
    }
    auto slice = node<SliceExpr>(start);
    slice->start = std::move(first);
    if (!is_op(":") && !is_op("]") && !is_op(",")) slice->stop = parse_expression(true);
    if (skip_op(":"))
      if (!is_op("]") && !is_op(",")) slice->step = parse_expression(true);
    return slice;
  }

  Arguments parse_call_args() {
    const Token& open = cur();
    expect_op("(");
    Arguments args;
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail("invalid syntax for function call expression", open);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;  // trailing comma
      }
      if (skip_op("*")) {
        ensure(!args.star_args && !args.star_kwargs);
        args.star_args = parse_expression(true);
      } else if (skip_op("**")) {
        ensure(!args.star_kwargs);
        args.star_kwargs = parse_expression(true);
      } else if (cur().type == TokenType::Name && is_op(peek(), "=")) {
        ensure(!args.star_kwargs);
        std::string key = advance().text;
        advance();
        args.keywords.emplace_back(key, parse_expression(true));
      } else {
        ensure(!args.star_args && !args.star_kwargs && args.keywords.empty());
        args.positional.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
    return args;
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto call = node<CallExpr>(cur());
    call->callee = std::move(callee);
    call->args = parse_call_args();
    return call;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    return name;
  }

  // `| name(args)` chains; with `start_inline` the first filter has no leading pipe (filter blocks).
  ExprPtr parse_filter(ExprPtr operand, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) advance();
      start_inline = false;
      auto filter = node<FilterExpr>(cur());
      filter->name = parse_dotted_name();
      if (is_op("(")) filter->args = parse_call_args();
      filter->operand = std::move(operand);
      operand = std::move(filter);
    }
    return operand;
  }

  ExprPtr parse_test(ExprPtr operand) {
    const Token& is_token = advance();
    bool negated = skip_name("not");
    auto test = node<TestExpr>(is_token);
    test->name = parse_dotted_name();
    test->operand = std::move(operand);
    const Token& next = cur();
    if (is_op("(")) {
      test->args = parse_call_args();
    } else if ((next.type == TokenType::Name || next.type == TokenType::String || next.type == TokenType::Integer ||
                next.type == TokenType::Float || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      test->args.positional.push_back(parse_postfix(parse_primary(false)));
    }
    if (!negated) return test;
    auto negation = node<UnaryExpr>(is_token);
    negation->op = UnaryExpr::Op::Not;
    negation->operand = std::move(test);
    return negation;
  }

  std::vector<Token> tokens_;
  std::string origin_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<Names> end_stack_;
  std::vector<std::string> tag_stack_;
  std::vector<MacroDef*> open_macros_;
};

}  // namespace

std::shared_ptr<const Program> parse_program(std::string_view source, const std::string& origin) {
  return Parser(tokenize(source, origin), origin).run();
}

}  // namespace vlm::jinja
