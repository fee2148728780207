#pragma once
// The grammar every front end (GBNF text, regular expressions, JSON Schema,
// choice lists) produces: named rules whose bodies are expression trees
// over Unicode code points. grammar/program.hpp lowers it to bytes.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "text/utf8_encode.hpp"

namespace pagedserve::grammar {

// A grammar, schema or pattern that cannot be used; the message names the
// problem (a keyword, a rule, a position).
struct GrammarError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline constexpr std::uint32_t kMaxCodepoint = 0x10FFFF;

// Inclusive code point ranges, sorted and disjoint after normalize().
struct CodepointSet {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;

  CodepointSet& add(std::uint32_t lo, std::uint32_t hi);
  void normalize();
  // Everything else: surrogates are never included, they are not characters.
  CodepointSet complement() const;
  CodepointSet without(const CodepointSet& other) const;
  bool empty() const { return ranges.empty(); }
};

struct Expr {
  enum class Kind { sequence, alternatives, chars, literal, rule, repeat };
  Kind kind = Kind::sequence;
  std::vector<Expr> items;  // sequence, alternatives; repeat: exactly one
  CodepointSet chars;       // chars
  std::string text;         // literal: UTF-8 bytes; rule: its name
  int min = 0, max = -1;    // repeat; max -1: unbounded
};

Expr literal(std::string bytes);
Expr chars(CodepointSet set);
Expr chars(std::uint32_t lo, std::uint32_t hi);
Expr rule(std::string name);
Expr sequence(std::vector<Expr> items);
Expr alternatives(std::vector<Expr> items);
Expr repeat(Expr item, int min, int max);
inline Expr optional(Expr item) { return repeat(std::move(item), 0, 1); }
inline Expr empty() { return sequence({}); }

// Named rules; matching starts at `root`.
struct Rules {
  std::map<std::string, Expr> rules;
  std::string root = "root";
};

// The UTF-8 encoding of `cp`.
using text::utf8_encode;

}  // namespace pagedserve::grammar
