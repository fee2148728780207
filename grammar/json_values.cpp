#include "grammar/json_values.hpp"

#include <cstdio>

namespace pagedserve::grammar::json {

CodepointSet plain_chars() {
  CodepointSet escaped;
  escaped.add(0, 0x1F).add('"', '"').add('\\', '\\');
  escaped.normalize();
  return escaped.complement();
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {

Expr digits(int min, int max) { return repeat(chars('0', '9'), min, max); }

// \uXXXX outside the surrogates: a lone half would count as a character
// here but not in a validator that pairs them.
Expr unicode_escape() {
  const Expr hex = chars(CodepointSet{}.add('0', '9').add('a', 'f').add('A', 'F'));
  return sequence({literal("u"),
                   alternatives({sequence({chars(CodepointSet{}.add('0', '9').add('a', 'c').add('A', 'C')), repeat(hex, 3, 3)}),
                                 sequence({chars(CodepointSet{}.add('d', 'd').add('D', 'D')), chars('0', '7'), repeat(hex, 2, 2)}),
                                 sequence({chars(CodepointSet{}.add('e', 'f').add('E', 'F')), repeat(hex, 3, 3)})})});
}

Expr integer() { return sequence({optional(literal("-")), alternatives({literal("0"), sequence({chars('1', '9'), digits(0, 15)})})}); }

}  // namespace

void add_value_rules(Rules& r) {
  if (r.rules.count("json-value")) return;
  r.rules["colon"] = sequence({literal(":"), optional(literal(" "))});
  r.rules["comma"] = sequence({literal(","), optional(literal(" "))});
  r.rules["json-plain-char"] = chars(plain_chars());
  r.rules["json-char"] = alternatives({rule("json-plain-char"),
                                       sequence({literal("\\"), alternatives({chars(CodepointSet{}.add('"', '"').add('\\', '\\').add('/', '/').add('b', 'b').add('f', 'f').add('n', 'n').add('r', 'r').add('t', 't')),
                                                                              unicode_escape()})})});
  r.rules["json-string"] = sequence({literal("\""), repeat(rule("json-char"), 0, -1), literal("\"")});
  r.rules["json-integer"] = integer();
  r.rules["json-number"] = sequence({integer(), optional(sequence({literal("."), digits(1, 16)})),
                                     optional(sequence({chars(CodepointSet{}.add('e', 'e').add('E', 'E')),
                                                        optional(chars(CodepointSet{}.add('+', '+').add('-', '-'))), digits(1, 2)}))});
  const Expr member = sequence({rule("json-string"), rule("colon"), rule("json-value")});
  r.rules["json-object"] = sequence({literal("{"), optional(sequence({member, repeat(sequence({rule("comma"), member}), 0, -1)})), literal("}")});
  r.rules["json-array"] = sequence({literal("["), optional(sequence({rule("json-value"), repeat(sequence({rule("comma"), rule("json-value")}), 0, -1)})), literal("]")});
  r.rules["json-value"] = alternatives({rule("json-object"), rule("json-array"), rule("json-string"), rule("json-number"),
                                        literal("true"), literal("false"), literal("null")});
}

}  // namespace pagedserve::grammar::json
