#include "grammar/expr.hpp"

#include <algorithm>

namespace pagedserve::grammar {

CodepointSet& CodepointSet::add(std::uint32_t lo, std::uint32_t hi) {
  if (lo <= hi) ranges.emplace_back(lo, std::min(hi, kMaxCodepoint));
  return *this;
}

void CodepointSet::normalize() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  ranges = std::move(merged);
}

CodepointSet CodepointSet::complement() const {
  CodepointSet sorted = *this;
  sorted.add(0xD800, 0xDFFF);  // surrogates stay out of the complement too
  sorted.normalize();
  CodepointSet out;
  std::uint32_t next = 0;
  for (const auto& [lo, hi] : sorted.ranges) {
    if (lo > next) out.add(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodepoint) out.add(next, kMaxCodepoint);
  return out;
}

CodepointSet CodepointSet::without(const CodepointSet& other) const {
  // a \ b == complement(complement(a) U b), surrogates aside (never in either).
  CodepointSet c = complement();
  for (const auto& r : other.ranges) c.add(r.first, r.second);
  c.normalize();
  return c.complement();
}

Expr literal(std::string bytes) {
  Expr e;
  e.kind = Expr::Kind::literal;
  e.text = std::move(bytes);
  return e;
}

Expr chars(CodepointSet set) {
  Expr e;
  e.kind = Expr::Kind::chars;
  set.normalize();
  e.chars = std::move(set);
  return e;
}

Expr chars(std::uint32_t lo, std::uint32_t hi) { return chars(CodepointSet{}.add(lo, hi)); }

Expr rule(std::string name) {
  Expr e;
  e.kind = Expr::Kind::rule;
  e.text = std::move(name);
  return e;
}

Expr sequence(std::vector<Expr> items) {
  Expr e;
  e.kind = Expr::Kind::sequence;
  e.items = std::move(items);
  return e;
}

Expr alternatives(std::vector<Expr> items) {
  if (items.size() == 1) return std::move(items.front());
  Expr e;
  e.kind = Expr::Kind::alternatives;
  e.items = std::move(items);
  return e;
}

Expr repeat(Expr item, int min, int max) {
  Expr e;
  e.kind = Expr::Kind::repeat;
  e.items.push_back(std::move(item));
  e.min = min;
  e.max = max;
  return e;
}

}  // namespace pagedserve::grammar
