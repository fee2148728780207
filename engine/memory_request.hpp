#pragma once
// One step's conversation between the scheduling policy and the block
// manager, as plain values (no pointers into either side's state), so the
// two can live in different actors, or processes.
//
//   scheduler --MemoryRequest--> block manager
//     memory changes output processing asked for (frees, forks, computed);
//     running groups in queue order (the block manager preempts from the
//     back); swapped groups in swap-in order; waiting groups in admission
//     order with their tokens; the step's budgets and preemption mode.
//   block manager --MemoryGrant--> scheduler
//     who runs how many tokens, who was preempted and how, who was swapped
//     in, admitted (with its prefix-cache hits) or refused; the block copies.
//
// Groups are named by their place in the request (`group`), so the
// scheduler maps a grant back onto its own SequenceGroups without a lookup.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/request.hpp"
#include "engine/step_plan.hpp"
#include "memory/block_copy.hpp"

namespace pagedserve::engine {

// A memory change output processing asked for; applied before the step.
struct MemoryOp {
  enum class Kind : std::uint8_t { free, fork, computed };
  Kind kind = Kind::free;
  SeqId seq_id = 0;
  std::int64_t arg = 0;  // fork: the child; computed: the number of computed tokens
};

// One live sequence of a group, as the block manager needs to see it. Its
// unslotted tokens (a waiting group's: all of them) sit in
// MemoryRequest::tokens from `first_token` on: one vector per request, not
// one per sequence, because a request is built for every step.
struct SeqSlots {
  SeqId seq_id = 0;
  int num_tokens = 0;
  int num_computed = 0;
  int num_slotted = 0;
  std::uint32_t first_token = 0;           // into MemoryRequest::tokens
  RowRequest row;                          // what its logits row is for, should it sample
  std::vector<SamplerSetup> new_samplers;  // made when it first samples; the plan fills in the context

  int num_uncomputed() const { return num_tokens - num_computed; }
  int num_unslotted() const { return num_tokens - num_slotted; }
};

// A group's live sequences are MemoryRequest::seqs[first_seq, first_seq + num_seqs).
struct GroupSlots {
  int max_num_running_seqs = 1;  // counted against max_num_seqs
  std::uint32_t first_seq = 0;
  std::uint32_t num_seqs = 0;
};

struct MemoryRequest {
  std::uint64_t step_id = 0;
  int max_num_seqs = 0;
  int max_num_batched_tokens = 0;
  PreemptionMode preemption_mode = PreemptionMode::recompute;
  std::vector<MemoryOp> ops;
  std::vector<SeqId> released;     // sequences gone for good: their samplers go
  std::vector<GroupSlots> groups;  // running, then swapped, then waiting
  std::uint32_t num_running = 0;
  std::uint32_t num_swapped = 0;
  std::vector<SeqSlots> seqs;
  std::vector<std::int32_t> tokens;

  std::span<SeqSlots> seqs_of(const GroupSlots& g) { return std::span<SeqSlots>(seqs).subspan(g.first_seq, g.num_seqs); }
  std::span<const SeqSlots> seqs_of(const GroupSlots& g) const {
    return std::span<const SeqSlots>(seqs).subspan(g.first_seq, g.num_seqs);
  }
  std::span<const std::int32_t> unslotted(const SeqSlots& s) const {
    return std::span<const std::int32_t>(tokens).subspan(s.first_token, static_cast<std::size_t>(s.num_unslotted()));
  }
};

// A sequence that computes tokens this step.
struct ScheduledSlot {
  std::uint32_t group = 0;  // place in MemoryRequest::groups
  std::uint32_t seq = 0;    // place in MemoryRequest::seqs
  int num_new_tokens = 0;
  bool samples = false;     // reaches the end of its tokens: one logits row
};

enum class GroupFate : std::uint8_t { preempted_swap, preempted_recompute, swapped_in, admitted, refused };

struct GroupChange {
  std::uint32_t group = 0;
  GroupFate fate = GroupFate::admitted;
  std::string error;                 // refused: why
  std::vector<int> num_computed;     // admitted: per live sequence, after prefix-cache hits
};

struct MemoryGrant {
  std::uint64_t step_id = 0;
  int block_size = 0;
  std::vector<ScheduledSlot> scheduled;  // prefill chunks and decodes, in batch order
  std::vector<GroupChange> changes;      // in the order they happened
  std::vector<memory::BlockCopy> swap_out, swap_in, copy_on_write;
  int num_prefill_tokens = 0;
  int num_decode_tokens = 0;
  bool executes = false;                 // a StepPlan with work went to the executor
};

}  // namespace pagedserve::engine
