#include "grammar/gbnf.hpp"

#include "grammar/text_cursor.hpp"

namespace pagedserve::grammar {

namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view text) : text_(text), in_(text, "grammar") {}

  Rules run() {
    Rules out;
    skip_space();
    while (!in_.done()) {
      const std::string name = read_name();
      skip_space();
      if (!(in_.eat(':') && in_.eat(':') && in_.eat('='))) in_.fail("expected '::=' after the rule name " + name);
      if (out.rules.count(name)) in_.fail("the rule " + name + " is defined twice");
      out.rules[name] = parse_alternatives(false);
    }
    if (out.rules.empty()) throw GrammarError("the grammar defines no rules");
    return out;
  }

 private:
  void skip_space() {
    for (;;) {
      const char c = in_.peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        in_.skip(1);
      } else if (c == '#') {
        while (!in_.done() && in_.peek() != '\n') in_.skip(1);
      } else {
        return;
      }
    }
  }

  std::string read_name() {
    std::string name;
    while (is_name_char(in_.peek())) name += in_.peek(), in_.skip(1);
    if (name.empty()) in_.fail("expected a rule name");
    return name;
  }

  // Whether the text ahead is `name ::=`: the start of the next rule.
  bool at_rule_start() const {
    std::size_t p = in_.pos();
    while (p < text_.size() && is_name_char(text_[p])) ++p;
    if (p == in_.pos()) return false;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\n' || text_[p] == '\r')) ++p;
    return text_.substr(p, 3) == "::=";
  }

  Expr parse_alternatives(bool nested) {
    std::vector<Expr> alts;
    alts.push_back(parse_sequence(nested));
    while (in_.eat('|')) alts.push_back(parse_sequence(nested));
    return alternatives(std::move(alts));
  }

  Expr parse_sequence(bool nested) {
    std::vector<Expr> items;
    for (;;) {
      skip_space();
      const char c = in_.peek();
      if (in_.done() || c == '|' || c == ')' || (!nested && at_rule_start())) break;
      items.push_back(parse_postfix(parse_primary()));
    }
    return sequence(std::move(items));
  }

  Expr parse_primary() {
    if (in_.eat('"')) {
      std::string bytes;
      while (!in_.eat('"')) {
        if (in_.done()) in_.fail("unterminated string");
        bytes += utf8_encode(in_.eat('\\') ? in_.escape() : in_.next_codepoint());
      }
      return literal(std::move(bytes));
    }
    if (in_.eat('[')) return chars(in_.char_class(false));
    if (in_.eat('.')) return chars(CodepointSet{}.complement());
    if (in_.eat('(')) {
      Expr inner = parse_alternatives(true);
      skip_space();
      in_.expect(')');
      return inner;
    }
    return rule(read_name());
  }

  Expr parse_postfix(Expr e) {
    for (;;) {
      if (in_.eat('*')) e = repeat(std::move(e), 0, -1);
      else if (in_.eat('+')) e = repeat(std::move(e), 1, -1);
      else if (in_.eat('?')) e = repeat(std::move(e), 0, 1);
      else if (in_.peek() == '{') e = parse_braces(std::move(e));
      else return e;
    }
  }

  Expr parse_braces(Expr e) {
    in_.expect('{');
    const int min = in_.count();
    int max = min;
    if (in_.eat(',')) max = in_.peek() == '}' ? -1 : in_.count();
    in_.expect('}');
    if (max >= 0 && max < min) in_.fail("repetition {m,n} with n < m");
    return repeat(std::move(e), min, max);
  }

  std::string_view text_;
  TextCursor in_;
};

}  // namespace

Rules parse_gbnf(std::string_view text) { return GbnfParser(text).run(); }

}  // namespace pagedserve::grammar
