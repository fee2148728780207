#pragma once
// A grammar lowered to bytes, the form the matcher runs: each rule is a list
// of alternatives, each alternative a run of elements in `code` ending with
// an `end` element. An element matches one byte from a set, or a whole rule.
//
//   code: | a0: bytes rule bytes end | a1: end | b0: bytes rule end | ...
//   rule_alts[r] = start positions of rule r's alternatives
//
// Lowering refuses (GrammarError) an undefined rule, left recursion (the
// matcher expands rules eagerly and would never stop), and a grammar that
// accepts no string at all.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "grammar/expr.hpp"

namespace pagedserve::grammar {

struct ByteSet {
  std::array<std::uint64_t, 4> bits{};
  void add(unsigned lo, unsigned hi) {
    for (unsigned b = lo; b <= hi; ++b) bits[b >> 6] |= std::uint64_t{1} << (b & 63);
  }
  bool has(unsigned char b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  bool empty() const { return !(bits[0] | bits[1] | bits[2] | bits[3]); }
  auto operator<=>(const ByteSet&) const = default;
};

struct Element {
  enum class Kind : std::uint8_t { end, bytes, rule };
  Kind kind = Kind::end;
  std::uint32_t index = 0;  // bytes: into Program::sets; rule: the rule id
};

struct Program {
  std::vector<Element> code;
  std::vector<std::vector<std::uint32_t>> rule_alts;
  std::vector<std::string> rule_names;
  std::vector<ByteSet> sets;
  std::uint32_t root = 0;
};

// Throws GrammarError naming the problem.
Program lower(const Rules& rules);

// The UTF-8 byte-range sequences that together match exactly the code
// points lo..hi (each inner vector: one range per byte position).
std::vector<std::vector<std::pair<std::uint8_t, std::uint8_t>>> utf8_sequences(std::uint32_t lo, std::uint32_t hi);

}  // namespace pagedserve::grammar
