#include "grammar/matcher.hpp"

#include <algorithm>

namespace pagedserve::grammar {

void normalize(MatchState& s) {
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
}

GrammarRuntime::GrammarRuntime(std::shared_ptr<const Program> program) : program_(std::move(program)) {
  nodes_.push_back({0, 0});  // id 0: the empty stack
  memo_.emplace_back();
  for (std::uint32_t alt : program_->rule_alts[program_->root]) expand(alt, 0, initial_);
  normalize(initial_);
}

StackId GrammarRuntime::intern(std::uint32_t pos, StackId below) {
  const std::uint64_t key = (static_cast<std::uint64_t>(pos) << 32) | below;
  auto [it, added] = ids_.try_emplace(key, static_cast<StackId>(nodes_.size()));
  if (added) {
    nodes_.push_back({pos, below});
    memo_.emplace_back();
  }
  return it->second;
}

// Pushes the stacks that a stack with `pos` on top of `below` becomes once
// every rule at its top is entered and every finished rule returns: each
// ends waiting on a byte element (or is the empty stack, id 0).
void GrammarRuntime::expand(std::uint32_t pos, StackId below, MatchState& out) {
  const Element& el = program_->code[pos];
  switch (el.kind) {
    case Element::Kind::end:
      if (below == 0) {
        out.push_back(0);
      } else {
        const Node n = nodes_[below];
        expand(n.pos, n.below, out);
      }
      return;
    case Element::Kind::bytes:
      out.push_back(intern(pos, below));
      return;
    case Element::Kind::rule: {
      // A call in tail position returns straight to `below`: loops written
      // as right recursion keep a constant stack depth.
      const bool tail = program_->code[pos + 1].kind == Element::Kind::end;
      const StackId ret = tail ? below : intern(pos + 1, below);
      for (std::uint32_t alt : program_->rule_alts[el.index]) expand(alt, ret, out);
      return;
    }
  }
}

std::span<const StackId> GrammarRuntime::step(StackId id, unsigned char byte) {
  auto& table = memo_[id];
  if (!table) table = std::make_unique<std::array<std::uint32_t, 256>>();  // zeroed: nothing known
  if (const std::uint32_t known = (*table)[byte]) {
    const Span s = spans_[known - 1];
    return {pool_.data() + s.first, s.size};
  }
  const Node n = nodes_[id];
  scratch_.clear();
  if (program_->sets[program_->code[n.pos].index].has(byte)) expand(n.pos + 1, n.below, scratch_);
  normalize(scratch_);
  spans_.push_back({static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(scratch_.size())});
  pool_.insert(pool_.end(), scratch_.begin(), scratch_.end());
  (*memo_[id])[byte] = static_cast<std::uint32_t>(spans_.size());
  const Span s = spans_.back();
  return {pool_.data() + s.first, s.size};
}

void GrammarRuntime::advance(const MatchState& from, unsigned char byte, MatchState& out) {
  out.clear();
  std::size_t sources = 0;
  for (StackId id : from) {
    if (id == 0) continue;
    const auto next = step(id, byte);
    if (next.empty()) continue;
    out.insert(out.end(), next.begin(), next.end());
    ++sources;
  }
  if (sources > 1) normalize(out);
}

bool GrammarRuntime::advance(MatchState& state, std::string_view bytes) {
  MatchState next;
  for (unsigned char c : bytes) {
    advance(state, c, next);
    state.swap(next);
    if (state.empty()) return false;
  }
  return true;
}

}  // namespace pagedserve::grammar
