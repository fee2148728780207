#pragma once
// Regular expressions (the JavaScript / Python common subset) to rules; the
// matcher then runs them as an automaton over bytes.
//
// Supported: literals, escapes (\n \t \xHH \uHHHH, \. and other escaped
// punctuation), . (any character but line breaks), [classes] with ranges,
// negation and \d \w \s \D \W \S, groups ( ) (?: ) (?<name> ), alternation |,
// quantifiers * + ? {m} {m,} {m,n} (a lazy ? after them is accepted: it
// changes nothing about which strings match), ^ at the start and $ at the
// end. Refused by name: backreferences, lookaround, \b, and anchors
// elsewhere.

#include <string_view>

#include "grammar/expr.hpp"

namespace pagedserve::grammar {

struct ParsedRegex {
  Expr expr;
  bool anchored_start = false;  // began with ^
  bool anchored_end = false;    // ended with $
};

// `excluded`: code points removed from every character the pattern matches
// (JSON strings leave out '"', '\' and controls, which need escapes).
ParsedRegex parse_regex(std::string_view pattern, const CodepointSet& excluded = {});

// Rules whose root matches exactly the strings the whole pattern matches.
Rules regex_rules(std::string_view pattern);

}  // namespace pagedserve::grammar
