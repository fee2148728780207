#include "grammar/regex.hpp"

#include "grammar/text_cursor.hpp"

namespace pagedserve::grammar {

namespace {

class RegexParser {
 public:
  RegexParser(std::string_view pattern, const CodepointSet& excluded)
      : pattern_(pattern), in_(pattern, "regex"), excluded_(excluded) {}

  ParsedRegex run() {
    ParsedRegex out;
    out.anchored_start = in_.eat('^');
    out.expr = parse_alternatives();
    if (in_.eat('$')) out.anchored_end = true;
    if (!in_.done()) in_.fail(in_.peek() == ')' ? "unbalanced ')'" : "unexpected '" + std::string(1, in_.peek()) + "'");
    return out;
  }

 private:
  Expr parse_alternatives() {
    std::vector<Expr> alts;
    alts.push_back(parse_sequence());
    while (in_.eat('|')) alts.push_back(parse_sequence());
    return alternatives(std::move(alts));
  }

  bool at_end_anchor() const { return in_.peek() == '$' && in_.pos() + 1 == pattern_.size(); }

  Expr parse_sequence() {
    std::vector<Expr> items;
    while (!in_.done() && in_.peek() != '|' && in_.peek() != ')' && !at_end_anchor())
      items.push_back(parse_quantified(parse_atom()));
    return sequence(std::move(items));
  }

  Expr atom_chars(CodepointSet set) {
    set.normalize();
    return chars(excluded_.empty() ? set : set.without(excluded_));
  }

  Expr parse_atom() {
    const char c = in_.peek();
    if (c == '^' || c == '$') in_.fail("anchors are supported only at the start and end of the pattern");
    if (c == '*' || c == '+' || c == '?' || c == '{') in_.fail("nothing to repeat");
    if (in_.eat('(')) return parse_group();
    if (in_.eat('[')) return atom_chars(in_.char_class(true));
    if (in_.eat('.')) return atom_chars(CodepointSet{}.add('\n', '\n').add('\r', '\r').add(0x2028, 0x2029).complement());
    if (in_.eat('\\')) return parse_escape();
    const std::uint32_t cp = in_.next_codepoint();
    return atom_chars(CodepointSet{}.add(cp, cp));
  }

  Expr parse_group() {
    if (in_.eat('?')) {
      if (in_.eat(':')) {
      } else if (in_.peek() == '<' && in_.peek(1) != '=' && in_.peek(1) != '!') {
        while (!in_.done() && in_.peek() != '>') in_.skip(1);
        in_.expect('>');
      } else {
        in_.fail("lookaround assertions are not supported");
      }
    }
    Expr inner = parse_alternatives();
    in_.expect(')');
    return inner;
  }

  Expr parse_escape() {
    const char c = in_.peek();
    if (c >= '1' && c <= '9') in_.fail("backreferences are not supported");
    if (c == 'b' || c == 'B') in_.fail("word boundaries (\\b, \\B) are not supported");
    CodepointSet set;
    if (shorthand_class(c, set)) {
      in_.skip(1);
      return atom_chars(set);
    }
    const std::uint32_t cp = in_.escape();
    return atom_chars(CodepointSet{}.add(cp, cp));
  }

  Expr parse_quantified(Expr e) {
    for (;;) {
      int min, max;
      if (in_.eat('*')) min = 0, max = -1;
      else if (in_.eat('+')) min = 1, max = -1;
      else if (in_.eat('?')) min = 0, max = 1;
      else if (in_.peek() == '{' && in_.peek(1) >= '0' && in_.peek(1) <= '9') {
        in_.skip(1);
        min = max = in_.count();
        if (in_.eat(',')) max = in_.peek() == '}' ? -1 : in_.count();
        in_.expect('}');
        if (max >= 0 && max < min) in_.fail("repetition {m,n} with n < m");
      } else {
        return e;
      }
      in_.eat('?');  // lazy: the same strings match
      e = repeat(std::move(e), min, max);
    }
  }

  std::string_view pattern_;
  TextCursor in_;
  const CodepointSet& excluded_;
};

}  // namespace

ParsedRegex parse_regex(std::string_view pattern, const CodepointSet& excluded) {
  return RegexParser(pattern, excluded).run();
}

Rules regex_rules(std::string_view pattern) {
  Rules r;
  r.rules["root"] = parse_regex(pattern).expr;
  return r;
}

}  // namespace pagedserve::grammar
