#pragma once
// The scheduling policy (after vLLM's): three queues and one decision per
// step about who runs, how many tokens each computes, and who is preempted.
//
//   waiting --admit (FCFS by priority)--> running --preempt (swap)--> swapped
//      ^                                   |   ^                         |
//      +------- preempt (recompute) -------+   +------- swap in ---------+
//
// Each step is two halves, so the policy and the pools can live in
// different actors with only values between them:
//   memory_request(): the memory changes output processing asked for, and
//     the queues in the order the policy wants them served (running groups
//     in queue order, preempted from the back; swapped; waiting in
//     admission order), with the budgets (engine/memory_request.hpp);
//   the block manager grants it (engine/memory_grant.hpp): slots, swaps,
//     preemptions, admissions, refusals and each sequence's token count;
//   apply(grant): the queues and sequences follow what was granted, and the
//     step's SchedulerOutput (pointers into this scheduler's own groups) is
//     what output processing works on.
// Prompts are chunked: a long prompt is split over steps and shares the
// batch with decodes (the token budget counts prefill tokens + 1 per decode;
// decodes are served first).
//
// Invariants (checked by tests/engine/scheduler_random_test.cpp):
//   - running is sorted by (priority, arrival); waiting and swapped too;
//   - a running sequence's block manager tokens == its token_ids, all on GPU
//     (after schedule()); a swapped one is on CPU; a waiting one has no blocks;
//   - live sequences in running <= max_num_seqs; a step's tokens <=
//     max_num_batched_tokens;
//   - a group that can never fit is refused (rejected), never left waiting.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/memory_request.hpp"
#include "engine/request.hpp"
#include "engine/sequence.hpp"

namespace pagedserve::engine {

struct SchedulerConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  PreemptionMode preemption_mode = PreemptionMode::recompute;
  // Throws std::invalid_argument naming the bad field.
  void validate() const;
};

// A step as the scheduler sees it. It never leaves the scheduler's side: its
// pointers name the scheduler's own groups.
struct ScheduledSeq {
  SequenceGroup* group = nullptr;  // alive until the next memory_request()
  Sequence* seq = nullptr;
  int num_new_tokens = 0;          // computed this step, from seq->num_computed on
  bool samples = false;            // reaches the end of its tokens: one logits row
};

struct SchedulerOutput {
  std::vector<ScheduledSeq> seqs;  // prefill chunks and decodes, in queue order
  std::vector<memory::BlockCopy> swap_out, swap_in, copy_on_write;
  std::vector<std::shared_ptr<SequenceGroup>> preempted;  // this step
  std::vector<std::shared_ptr<SequenceGroup>> rejected;   // can never fit (error set); blocks freed
  std::vector<std::shared_ptr<SequenceGroup>> done;       // over, and now without blocks
  std::vector<SeqId> released;                            // sequences gone for good
  int num_prefill_tokens = 0;
  int num_decode_tokens = 0;
  int num_batched_tokens() const { return num_prefill_tokens + num_decode_tokens; }
};

struct SchedulerCounters {
  std::int64_t num_steps = 0;
  std::int64_t num_preemptions_swap = 0;
  std::int64_t num_preemptions_recompute = 0;
  std::int64_t num_prefill_tokens = 0;  // computed, prefix-cache hits excluded
  std::int64_t num_decode_tokens = 0;
  std::int64_t num_rejected = 0;
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerConfig& config);

  const SchedulerConfig& config() const { return config_; }
  SeqId new_seq_id() { return next_seq_id_++; }
  std::uint64_t new_arrival_seq() { return next_arrival_++; }

  void add(std::shared_ptr<SequenceGroup> group);
  // Takes the group out of its queue (null if unknown or over); its blocks
  // are freed by the next schedule(), which then lists it in `done`.
  std::shared_ptr<SequenceGroup> abort(const std::string& request_id);

  // The first half of a step; the scheduler then waits for its grant.
  MemoryRequest memory_request(std::uint64_t step_id);
  // The second half: the queues follow the grant.
  SchedulerOutput apply(const MemoryGrant& grant);
  // The executor ran `out`: the scheduled tokens now have K/V (the block
  // manager hears of it block by block, at the next schedule()).
  void on_step_executed(const SchedulerOutput& out);

  // Output processing asks for memory changes; the next schedule() applies them.
  void fork(const Sequence& parent, Sequence& child);
  void release(Sequence& seq);  // the sequence ended: free its blocks
  void finish(SequenceGroup& group);  // every sample ended

  const std::deque<std::shared_ptr<SequenceGroup>>& waiting() const { return waiting_; }
  const std::deque<std::shared_ptr<SequenceGroup>>& running() const { return running_; }
  const std::deque<std::shared_ptr<SequenceGroup>>& swapped() const { return swapped_; }
  const SchedulerCounters& counters() const { return counters_; }
  // Anything for schedule() to do: queued groups or pending memory changes.
  bool has_work() const;
  int num_live_running_seqs() const;

 private:
  void take_pending(SchedulerOutput& out);
  void describe(const std::shared_ptr<SequenceGroup>& g, MemoryRequest& req);
  void apply_change(const GroupChange& change, SchedulerOutput& out);
  void refuse(const std::shared_ptr<SequenceGroup>& g, const std::string& why, SchedulerOutput& out);
  static void insert_sorted(std::deque<std::shared_ptr<SequenceGroup>>& q, std::shared_ptr<SequenceGroup> g);

  SchedulerConfig config_;
  std::deque<std::shared_ptr<SequenceGroup>> waiting_, running_, swapped_;
  std::vector<MemoryOp> pending_ops_;
  std::vector<std::shared_ptr<SequenceGroup>> pending_done_;
  std::vector<SeqId> pending_released_;
  SchedulerCounters counters_;
  // Between memory_request() and apply(): the groups and sequences the
  // request names by place, and the step's output so far.
  std::vector<SequenceGroup*> asked_groups_;  // alive in the queues until apply()
  std::vector<Sequence*> asked_seqs_;
  SchedulerOutput next_output_;
  int block_size_ = 1;  // the block manager's, from its last grant
  SeqId next_seq_id_ = 1;
  std::uint64_t next_arrival_ = 0;
};

}  // namespace pagedserve::engine
