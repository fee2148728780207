#pragma once
// The block manager's half of a step: grants a MemoryRequest against the
// pools and builds the executor's StepPlan. The scheduler decided the order
// (who runs first, who may be preempted first, who is admitted first) and
// the budgets; this side decides what memory allows, in that order:
//
//   1. apply the memory changes output processing asked for;
//   2. give every running sequence a slot for its new tokens; when the pool
//      is short, preempt the last running group (swap when the mode is swap
//      and the CPU pool has room, else recompute: its blocks are freed);
//   3. decodes first, then prompt chunks, within max_num_batched_tokens;
//   4. unless something was preempted: swap groups back in, then admit
//      waiting groups (prefix-cache hits skip their tokens) within
//      max_num_seqs and the token budget;
//   a group that can never fit is refused with one message, here.
//
// The request is the working state: its sequences' counters advance as
// blocks are granted, and plan_step() reads them.

#include "engine/memory_request.hpp"
#include "engine/step_plan.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::engine {

// Grants what the pools allow; `request`'s sequence counters are updated.
MemoryGrant grant_memory(MemoryRequest& request, memory::BlockManager& blocks);

// The executor's step for a granted request.
StepPlan plan_step(const MemoryRequest& request, const MemoryGrant& grant, const memory::BlockManager& blocks);

}  // namespace pagedserve::engine
