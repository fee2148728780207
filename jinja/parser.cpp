#include "jinja/parser.hpp"

#include <cstdlib>
#include <set>

#include "jinja/builtins.hpp"

namespace pagedserve::jinja {

namespace {

std::shared_ptr<Expr> make(ExprKind kind, int line) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse() {
    Body body = statements({});
    check_calls();
    return body;
  }

 private:
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::set<std::string> macros_;
  std::vector<std::pair<std::string, int>> called_names_;

  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(std::size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  bool is_op(const char* op) const { return cur().kind == TokenKind::op && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == TokenKind::name && cur().text == n; }
  bool skip_op(const char* op) { return is_op(op) ? (++pos_, true) : false; }
  bool skip_name(const char* n) { return is_name(n) ? (++pos_, true) : false; }
  [[noreturn]] void fail(const std::string& message) const { fail_at(cur().line, message); }

  void expect_op(const char* op) {
    if (!skip_op(op)) fail(std::string("expected '") + op + "'" + found());
  }
  std::string found() const {
    switch (cur().kind) {
      case TokenKind::block_end: return ", found the end of the tag";
      case TokenKind::variable_end: return ", found '}}'";
      case TokenKind::end: return ", found the end of the template";
      default: return ", found '" + cur().text + "'";
    }
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::name) fail("expected a name" + found());
    return tokens_[pos_++].text;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::block_end) fail("expected the end of the tag" + found());
    ++pos_;
  }

  // ---- statements ----

  // Statements up to a block tag named in `ends` (left unconsumed: cur() is
  // the tag's name).
  Body statements(const std::set<std::string>& ends) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::end) {
        if (!ends.empty()) fail("the template ends inside a block (missing {% " + *ends.begin() + " %}?)");
        return body;
      }
      if (t.kind == TokenKind::text) {
        auto s = std::make_shared<Stmt>();
        s->kind = StmtKind::text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(s);
        ++pos_;
      } else if (t.kind == TokenKind::variable_begin) {
        ++pos_;
        auto s = std::make_shared<Stmt>();
        s->kind = StmtKind::output;
        s->line = t.line;
        s->expr = tuple_or_expression();
        if (cur().kind != TokenKind::variable_end) fail("expected '}}'" + found());
        ++pos_;
        body.push_back(s);
      } else {
        ++pos_;  // {%
        if (cur().kind == TokenKind::name && ends.count(cur().text)) return body;
        body.push_back(statement());
      }
    }
  }

  std::shared_ptr<Stmt> statement() {
    const int line = cur().line;
    const std::string tag = expect_name();
    auto s = std::make_shared<Stmt>();
    s->line = line;
    if (tag == "if") return parse_if(s);
    if (tag == "for") return parse_for(s);
    if (tag == "set") return parse_set(s);
    if (tag == "macro") return parse_macro(s);
    if (tag == "call") return parse_call_block(s);
    if (tag == "break" || tag == "continue") {
      s->kind = tag == "break" ? StmtKind::break_ : StmtKind::continue_;
      expect_block_end();
      return s;
    }
    if (tag.rfind("end", 0) == 0 || tag == "else" || tag == "elif") fail_at(line, "{% " + tag + " %} without its opening tag");
    fail_at(line, "the {% " + tag + " %} tag is not supported");
  }

  std::shared_ptr<Stmt> parse_if(std::shared_ptr<Stmt> s) {
    s->kind = StmtKind::if_;
    while (true) {
      ExprPtr cond = expression();
      expect_block_end();
      Body body = statements({"elif", "else", "endif"});
      s->branches.emplace_back(cond, std::move(body));
      const std::string tag = expect_name();
      if (tag == "elif") continue;
      if (tag == "else") {
        expect_block_end();
        s->else_body = statements({"endif"});
        ++pos_;
      }
      expect_block_end();
      return s;
    }
  }

  std::vector<std::string> assign_targets() {
    const bool paren = skip_op("(");
    std::vector<std::string> names{expect_name()};
    while (skip_op(",")) {
      if (cur().kind != TokenKind::name) break;
      names.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return names;
  }

  std::shared_ptr<Stmt> parse_for(std::shared_ptr<Stmt> s) {
    s->kind = StmtKind::for_;
    s->targets = assign_targets();
    if (!skip_name("in")) fail("expected 'in' in a for loop" + found());
    s->expr = tuple_or_expression(false);
    if (skip_name("if")) s->condition = expression();
    if (is_name("recursive")) fail("recursive for loops are not supported");
    expect_block_end();
    s->body = statements({"else", "endfor"});
    if (expect_name() == "else") {
      expect_block_end();
      s->else_body = statements({"endfor"});
      ++pos_;
    }
    expect_block_end();
    return s;
  }

  std::shared_ptr<Stmt> parse_set(std::shared_ptr<Stmt> s) {
    s->kind = StmtKind::set;
    s->targets.push_back(expect_name());
    if (skip_op(".")) {
      s->attribute = expect_name();
    } else {
      while (skip_op(",")) s->targets.push_back(expect_name());
    }
    if (cur().kind == TokenKind::block_end && s->targets.size() == 1 && s->attribute.empty()) {
      ++pos_;
      s->kind = StmtKind::set_block;
      s->body = statements({"endset"});
      ++pos_;
      expect_block_end();
      return s;
    }
    if (is_op("|")) fail("filtered block set ({% set x | filter %}) is not supported");
    expect_op("=");
    s->expr = tuple_or_expression();
    expect_block_end();
    return s;
  }

  std::vector<Param> params() {
    std::vector<Param> out;
    expect_op("(");
    while (!skip_op(")")) {
      if (!out.empty()) expect_op(",");
      if (skip_op(")")) break;
      Param p{expect_name(), nullptr};
      if (skip_op("=")) p.default_value = expression();
      out.push_back(std::move(p));
    }
    return out;
  }

  std::shared_ptr<Stmt> parse_macro(std::shared_ptr<Stmt> s) {
    s->kind = StmtKind::macro;
    s->text = expect_name();
    macros_.insert(s->text);
    s->params = params();
    expect_block_end();
    s->body = statements({"endmacro"});
    ++pos_;
    expect_block_end();
    return s;
  }

  std::shared_ptr<Stmt> parse_call_block(std::shared_ptr<Stmt> s) {
    s->kind = StmtKind::call_block;
    if (is_op("(")) s->params = params();
    s->expr = expression();
    if (s->expr->kind != ExprKind::call) fail_at(s->line, "{% call %} needs a macro call");
    expect_block_end();
    s->body = statements({"endcall"});
    ++pos_;
    expect_block_end();
    return s;
  }

  // ---- expressions, by jinja2's precedence ----

  // An expression, or a tuple of them (`a, b`), as {{ }} and set accept.
  ExprPtr tuple_or_expression(bool with_condition = true) {
    const int line = cur().line;
    ExprPtr first = with_condition ? expression() : or_expr();
    if (!is_op(",")) return first;
    auto t = make(ExprKind::tuple, line);
    t->args.push_back(first);
    while (skip_op(",")) {
      if (cur().kind == TokenKind::block_end || cur().kind == TokenKind::variable_end || is_name("if")) break;
      t->args.push_back(with_condition ? expression() : or_expr());
    }
    return t;
  }

  ExprPtr expression() {
    ExprPtr e = or_expr();
    while (is_name("if")) {
      auto c = make(ExprKind::condition, cur().line);
      ++pos_;
      c->args.push_back(or_expr());
      c->args.push_back(e);
      c->args.push_back(skip_name("else") ? expression() : nullptr);
      e = c;
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    auto b = make(ExprKind::binary, line);
    b->name = op;
    b->args = {std::move(left), std::move(right)};
    return b;
  }

  // a or b or c: left-associative chains of a keyword operator.
  template <class Next>
  ExprPtr keyword_chain(const char* word, Next next) {
    ExprPtr e = (this->*next)();
    while (is_name(word)) {
      const int line = tokens_[pos_++].line;
      e = binary(word, e, (this->*next)(), line);
    }
    return e;
  }

  ExprPtr or_expr() { return keyword_chain("or", &Parser::and_expr); }
  ExprPtr and_expr() { return keyword_chain("and", &Parser::not_expr); }

  ExprPtr not_expr() {
    if (!is_name("not")) return compare();
    auto u = make(ExprKind::unary, tokens_[pos_++].line);
    u->name = "not";
    u->args.push_back(not_expr());
    return u;
  }

  ExprPtr compare() {
    const int line = cur().line;
    ExprPtr first = add_sub();
    auto c = make(ExprKind::compare, line);
    c->args.push_back(first);
    while (true) {
      if (cur().kind == TokenKind::op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                          cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
        c->ops.push_back(tokens_[pos_++].text);
      } else if (is_name("in")) {
        ++pos_;
        c->ops.push_back("in");
      } else if (is_name("not") && peek().kind == TokenKind::name && peek().text == "in") {
        pos_ += 2;
        c->ops.push_back("not in");
      } else {
        break;
      }
      c->args.push_back(add_sub());
    }
    return c->ops.empty() ? first : c;
  }

  template <class Next>
  ExprPtr left_assoc(std::initializer_list<const char*> ops, Next next) {
    ExprPtr e = (this->*next)();
    while (true) {
      const char* matched = nullptr;
      for (const char* op : ops)
        if (is_op(op)) matched = op;
      if (!matched) return e;
      const int line = tokens_[pos_++].line;
      e = binary(matched, e, (this->*next)(), line);
    }
  }

  ExprPtr add_sub() { return left_assoc({"+", "-"}, &Parser::concat); }
  ExprPtr concat() { return left_assoc({"~"}, &Parser::mul_div); }
  ExprPtr mul_div() { return left_assoc({"*", "/", "//", "%"}, &Parser::power); }
  ExprPtr power() { return left_assoc({"**"}, &Parser::unary_with_filters); }
  ExprPtr unary_with_filters() { return unary(true); }

  ExprPtr unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      auto u = make(ExprKind::unary, cur().line);
      u->name = tokens_[pos_++].text;
      u->args.push_back(unary(false));
      e = u;
    } else {
      e = postfix(primary());
    }
    return with_filter ? filters_and_tests(e) : e;
  }

  ExprPtr primary() {
    const Token t = cur();
    ++pos_;
    auto lit = [&](Value v) {
      auto e = make(ExprKind::literal, t.line);
      e->value = std::move(v);
      return e;
    };
    switch (t.kind) {
      case TokenKind::name:
        if (t.text == "true" || t.text == "True") return lit(Value(true));
        if (t.text == "false" || t.text == "False") return lit(Value(false));
        if (t.text == "none" || t.text == "None") return lit(Value::none());
        {
          auto e = make(ExprKind::name, t.line);
          e->name = t.text;
          return e;
        }
      case TokenKind::string: {
        std::string s = t.text;
        while (cur().kind == TokenKind::string) s += tokens_[pos_++].text;
        return lit(Value(s));
      }
      case TokenKind::integer: {
        errno = 0;
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) fail_at(t.line, "integer literal " + t.text + " is too large");
        return lit(Value(static_cast<std::int64_t>(v)));
      }
      case TokenKind::floating: return lit(Value(std::strtod(t.text.c_str(), nullptr)));
      case TokenKind::op:
        if (t.text == "(") return parenthesized(t.line);
        if (t.text == "[") return sequence_literal(ExprKind::list, "]", t.line);
        if (t.text == "{") return dict_literal(t.line);
        break;
      default: break;
    }
    --pos_;
    fail("unexpected" + found().substr(1));
  }

  ExprPtr parenthesized(int line) {
    if (skip_op(")")) return make(ExprKind::tuple, line);
    ExprPtr first = expression();
    if (skip_op(")")) return first;
    auto t = make(ExprKind::tuple, line);
    t->args.push_back(first);
    while (skip_op(",")) {
      if (is_op(")")) break;
      t->args.push_back(expression());
    }
    expect_op(")");
    return t;
  }

  ExprPtr sequence_literal(ExprKind kind, const char* close, int line) {
    auto l = make(kind, line);
    while (!skip_op(close)) {
      if (!l->args.empty()) expect_op(",");
      if (skip_op(close)) break;
      l->args.push_back(expression());
    }
    return l;
  }

  ExprPtr dict_literal(int line) {
    auto d = make(ExprKind::dict, line);
    while (!skip_op("}")) {
      if (!d->args.empty()) expect_op(",");
      if (skip_op("}")) break;
      d->args.push_back(expression());
      expect_op(":");
      d->args.push_back(expression());
    }
    return d;
  }

  ExprPtr postfix(ExprPtr e) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        e = subscript(e);
      } else if (is_op("(")) {
        e = call(e);
      } else {
        return e;
      }
    }
  }

  ExprPtr filters_and_tests(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        e = filter(e);
      } else if (is_name("is")) {
        e = test(e);
      } else if (is_op("(")) {
        e = call(e);
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr target) {
    const Token t = tokens_[pos_++];
    if (t.text == ".") {
      auto a = make(ExprKind::attribute, t.line);
      a->args.push_back(target);
      if (cur().kind == TokenKind::integer) {
        a->kind = ExprKind::item;
        auto index = make(ExprKind::literal, t.line);
        index->value = Value(static_cast<std::int64_t>(std::strtoll(cur().text.c_str(), nullptr, 10)));
        ++pos_;
        a->args.push_back(index);
        return a;
      }
      a->name = expect_name();
      return a;
    }
    auto s = make(ExprKind::item, t.line);
    s->args.push_back(target);
    ExprPtr parts[3];
    int part = 0;
    while (!is_op("]")) {
      if (skip_op(":")) {
        if (++part > 2) fail("a slice has at most three parts");
        continue;
      }
      if (parts[part]) fail("expected ']'" + found());
      parts[part] = expression();
      if (is_op(",")) fail("subscripts with several indices are not supported");
    }
    ++pos_;
    if (part == 0) {
      if (!parts[0]) fail_at(t.line, "an empty subscript []");
      s->args.push_back(parts[0]);
      return s;
    }
    s->kind = ExprKind::slice;
    for (auto& p : parts) s->args.push_back(p);
    return s;
  }

  // (args, name=kwargs), appended after what `e` holds already (the callee,
  // or the filtered or tested value).
  void arguments_after(Expr& e) {
    expect_op("(");
    for (bool first = true; !skip_op(")"); first = false) {
      if (!first) {
        expect_op(",");
        if (skip_op(")")) break;
      }
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (cur().kind == TokenKind::name && peek().kind == TokenKind::op && peek().text == "=") {
        const std::string name = expect_name();
        ++pos_;
        e.kwargs.emplace_back(name, expression());
      } else {
        if (!e.kwargs.empty()) fail("a positional argument follows a keyword argument");
        e.args.push_back(expression());
      }
    }
  }

  ExprPtr call(ExprPtr callee) {
    auto c = make(ExprKind::call, cur().line);
    c->args.push_back(callee);
    arguments_after(*c);
    if (callee->kind == ExprKind::name) {
      called_names_.emplace_back(callee->name, c->line);
    } else if (callee->kind == ExprKind::attribute) {
      if (!is_method(callee->name)) fail_at(c->line, "the method ." + callee->name + "() is not supported");
    } else {
      fail_at(c->line, "only functions, macros and methods can be called");
    }
    return c;
  }

  ExprPtr filter(ExprPtr operand) {
    auto f = make(ExprKind::filter, tokens_[pos_++].line);
    f->name = expect_name();
    if (is_op(".")) fail("dotted filter names are not supported");
    if (!is_filter(f->name)) fail_at(f->line, "the filter '" + f->name + "' is not supported");
    f->args.push_back(operand);
    if (is_op("(")) arguments_after(*f);
    return f;
  }

  ExprPtr test(ExprPtr operand) {
    auto t = make(ExprKind::test, tokens_[pos_++].line);
    t->negated = skip_name("not");
    t->name = expect_name();
    if (!is_test(t->name)) fail_at(t->line, "the test '" + t->name + "' is not supported");
    t->args.push_back(operand);
    const TokenKind k = cur().kind;
    if (is_op("(")) {
      arguments_after(*t);
    } else if ((k == TokenKind::name || k == TokenKind::string || k == TokenKind::integer || k == TokenKind::floating ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("'is' cannot follow a test");
      t->args.push_back(postfix(primary()));
    }
    if (!t->kwargs.empty()) fail_at(t->line, "keyword arguments to tests are not supported");
    return t;
  }

  void check_calls() const {
    for (const auto& [name, line] : called_names_)
      if (!is_global_function(name) && !macros_.count(name) && name != "caller")
        fail_at(line, "the function '" + name + "' is not defined (not a macro or a supported global)");
  }
};

}  // namespace

Body parse_template(const std::string& source) { return Parser(tokenize(source)).parse(); }

}  // namespace pagedserve::jinja
