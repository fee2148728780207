#pragma once
// How much KV memory sharing saves, measured on the real block manager:
// each request of a trace runs alone, and the blocks it holds are summed
// over its steps, once with sharing (fork + copy-on-write) and once with
// every sample or beam holding its own copy of everything.
//   parallel sampling, n samples: forked after the prompt; each sample's
//     output length is the request's scaled by a seeded U(0.5, 1.5);
//   beam search, width k: every step each beam proposes k continuations
//     whose log-probabilities are i.i.d. -Exp(1) (a model with no
//     preference), the k best by cumulative score survive, forking from
//     their parents; beams run to the request's output length.

#include <cstdint>
#include <vector>

#include "sim/trace.hpp"

namespace pagedserve::sim {

struct SharingResult {
  double blocks_shared = 0;    // block-steps with sharing
  double blocks_unshared = 0;  // block-steps with private copies
  double saving() const { return blocks_unshared > 0 ? 1.0 - blocks_shared / blocks_unshared : 0.0; }
};

SharingResult parallel_sampling_saving(const std::vector<TraceRequest>& trace, int n, int block_size, std::uint64_t seed);
SharingResult beam_search_saving(const std::vector<TraceRequest>& trace, int width, int block_size, std::uint64_t seed);

}  // namespace pagedserve::sim
