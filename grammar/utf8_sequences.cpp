// Code point ranges as UTF-8 byte ranges, split so that within one sequence
// every byte position varies independently (the construction of Rust's
// regex-syntax Utf8Sequences): then a range is a run of byte sets.

#include "grammar/program.hpp"

namespace pagedserve::grammar {

namespace {

using Sequences = std::vector<std::vector<std::pair<std::uint8_t, std::uint8_t>>>;

void split(std::uint32_t lo, std::uint32_t hi, Sequences& out) {
  static constexpr std::uint32_t kLastOfLength[] = {0x7F, 0x7FF, 0xFFFF};
  for (std::uint32_t last : kLastOfLength)
    if (lo <= last && hi > last) {
      split(lo, last, out);
      split(last + 1, hi, out);
      return;
    }
  if (hi < 0x80) {
    out.push_back({{static_cast<std::uint8_t>(lo), static_cast<std::uint8_t>(hi)}});
    return;
  }
  for (int i = 1; i < 4; ++i) {
    const std::uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) == (hi & ~m)) continue;
    if ((lo & m) != 0) {
      split(lo, lo | m, out);
      split((lo | m) + 1, hi, out);
      return;
    }
    if ((hi & m) != m) {
      split(lo, (hi & ~m) - 1, out);
      split(hi & ~m, hi, out);
      return;
    }
  }
  const std::string a = utf8_encode(lo), b = utf8_encode(hi);
  std::vector<std::pair<std::uint8_t, std::uint8_t>> seq;
  for (std::size_t k = 0; k < a.size(); ++k)
    seq.emplace_back(static_cast<std::uint8_t>(a[k]), static_cast<std::uint8_t>(b[k]));
  out.push_back(std::move(seq));
}

}  // namespace

Sequences utf8_sequences(std::uint32_t lo, std::uint32_t hi) {
  Sequences out;
  if (lo <= hi) split(lo, hi, out);
  return out;
}

}  // namespace pagedserve::grammar
