#pragma once
// GBNF grammar text (llama.cpp's format) to rules:
//
//   root   ::= object                      # matching starts at `root`
//   object ::= "{" pair ("," pair)* "}"
//   pair   ::= [a-z]+ ":" ( "true" | "false" )
//
// Terminals: "string" with \n \t \r \\ \" \xHH \uHHHH \UHHHHHHHH escapes,
// [character classes] with ranges and ^ negation, `.` (any character).
// Grouping ( ), alternatives |, postfix * + ? {m} {m,} {m,n}. A rule may
// span lines; it ends where the next `name ::=` begins. # starts a comment.
// Left recursion is refused (write `list ::= item ("," item)*`).

#include <string_view>

#include "grammar/expr.hpp"

namespace pagedserve::grammar {

// Throws GrammarError naming the position and the problem.
Rules parse_gbnf(std::string_view text);

}  // namespace pagedserve::grammar
