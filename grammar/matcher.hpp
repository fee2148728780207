#pragma once
// Runs a Program over bytes as a pushdown automaton. A matcher state is the
// set of parse stacks still alive, each waiting on a byte element; stack id
// 0 stands for "the root rule has matched everything" (the state accepts).
//
// Stacks are persistent and hash-consed in an arena: a node is (position
// in code, the stack beneath), so equal stacks have equal ids, pushing
// shares the tail, and a state is a small sorted vector of ids. What one
// byte does to one stack is memoized per (stack id, byte): walking a token
// trie through the same states again costs table lookups, not expansions.
//
// Not thread-safe: one owner (the executor, a benchmark) advances it.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/program.hpp"

namespace pagedserve::grammar {

using StackId = std::uint32_t;
using MatchState = std::vector<StackId>;  // sorted, unique; empty: dead

class GrammarRuntime {
 public:
  explicit GrammarRuntime(std::shared_ptr<const Program> program);

  const MatchState& initial() const { return initial_; }
  // The state after `byte`, into `out` (cleared first).
  void advance(const MatchState& from, unsigned char byte, MatchState& out);
  // `state` after every byte of `bytes`; false (state dead) on a mismatch.
  bool advance(MatchState& state, std::string_view bytes);
  static bool accepts(const MatchState& s) { return !s.empty() && s.front() == 0; }
  // Whether some byte can still follow.
  static bool can_continue(const MatchState& s) { return s.size() > (accepts(s) ? 1u : 0u); }
  std::size_t num_stacks() const { return nodes_.size(); }

 private:
  struct Node {
    std::uint32_t pos;
    StackId below;
  };
  struct Span {
    std::uint32_t first, size;
  };

  StackId intern(std::uint32_t pos, StackId below);
  void expand(std::uint32_t pos, StackId below, MatchState& out);
  std::span<const StackId> step(StackId id, unsigned char byte);

  std::shared_ptr<const Program> program_;
  std::vector<Node> nodes_;
  std::unordered_map<std::uint64_t, StackId> ids_;
  std::vector<std::unique_ptr<std::array<std::uint32_t, 256>>> memo_;  // per stack: 1 + index into spans_
  std::vector<Span> spans_;
  std::vector<StackId> pool_;
  MatchState initial_, scratch_;
};

void normalize(MatchState& s);

}  // namespace pagedserve::grammar
