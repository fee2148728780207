#pragma once
// What a request asks its output to match, as plain data that travels with
// its sampling parameters, and its compilation to a Program.
//
//   kind          source
//   json_schema   the schema, JSON text
//   json_object   (empty): any JSON object
//   regex         the pattern; the whole output must match
//   choice        a JSON array of strings; the output is one of them
//   grammar       GBNF text (grammar/gbnf.hpp)

#include <memory>
#include <string>

#include "grammar/program.hpp"

namespace pagedserve::grammar {

struct Constraint {
  std::string kind;  // empty: no constraint
  std::string source;

  bool empty() const { return kind.empty(); }
  bool operator==(const Constraint&) const = default;
};

// Compiled once per distinct constraint (a bounded, thread-safe cache);
// throws GrammarError naming the problem.
std::shared_ptr<const Program> compile(const Constraint& c);

}  // namespace pagedserve::grammar
