#pragma once
// Whether a constraint's grammar matches a whole string.

#include <string>

#include "grammar/constraint.hpp"
#include "grammar/matcher.hpp"

namespace pagedserve::testing {

inline bool full_match(const grammar::Constraint& c, const std::string& text) {
  grammar::GrammarRuntime runtime(grammar::compile(c));
  grammar::MatchState state = runtime.initial();
  return runtime.advance(state, text) && grammar::GrammarRuntime::accepts(state);
}

inline bool gbnf_match(const std::string& gbnf, const std::string& text) { return full_match({"grammar", gbnf}, text); }
inline bool regex_match(const std::string& re, const std::string& text) { return full_match({"regex", re}, text); }
inline bool schema_match(const std::string& schema, const std::string& text) { return full_match({"json_schema", schema}, text); }

// The message compiling `c` fails with, or "no error".
inline std::string compile_error(const grammar::Constraint& c) {
  try {
    grammar::compile(c);
  } catch (const grammar::GrammarError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace pagedserve::testing
