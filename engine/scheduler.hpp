#pragma once
// The scheduling policy (after vLLM's): three queues and one decision per
// step about who runs, how many tokens each computes, and who is preempted.
//
//   waiting --admit (FCFS by priority)--> running --preempt (swap)--> swapped
//      ^                                   |   ^                         |
//      +------- preempt (recompute) -------+   +------- swap in ---------+
//
// Each schedule():
//   1. applies the memory changes output processing asked for (frees of
//      finished or cancelled sequences, forks, computed marks);
//   2. gives every running sequence a slot for its newest token; when the
//      pool is full, preempts the lowest-priority, newest running group (by
//      swap when the mode is swap and the CPU pool has room, else by
//      recompute: blocks freed, the group requeued at the front of waiting
//      with its generated tokens kept as part of what it recomputes);
//   3. unless something was preempted this step: swaps groups back in, then
//      admits waiting groups, within max_num_seqs and max_num_batched_tokens.
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

#include "engine/request.hpp"
#include "engine/sequence.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::engine {

struct SchedulerConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  PreemptionMode preemption_mode = PreemptionMode::recompute;
  // Throws std::invalid_argument naming the bad field.
  void validate() const;
};

struct ScheduledSeq {
  SequenceGroup* group = nullptr;  // alive until the next schedule()
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

  SchedulerOutput schedule(memory::BlockManager& blocks);
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
  struct MemoryOp {
    enum Kind { free, fork, computed } kind;
    SeqId seq;
    SeqId other;  // fork: the child; computed: the number of tokens
  };
  struct Budget {
    int num_seqs = 0;    // live sequences in running
    int num_tokens = 0;  // left this step
  };

  void apply_pending(memory::BlockManager& blocks, SchedulerOutput& out);
  bool reserve_running(memory::BlockManager& blocks, SchedulerOutput& out);
  bool make_room(memory::BlockManager& blocks, SequenceGroup& g, SchedulerOutput& out);
  void preempt(memory::BlockManager& blocks, std::shared_ptr<SequenceGroup> victim, SchedulerOutput& out);
  void reject(memory::BlockManager& blocks, std::shared_ptr<SequenceGroup> g, std::string why, SchedulerOutput& out);
  void append_slots(memory::BlockManager& blocks, SequenceGroup& g, SchedulerOutput& out);
  void schedule_running(Budget& budget, SchedulerOutput& out);
  void schedule_prefill(SequenceGroup& g, Budget& budget, SchedulerOutput& out);
  void swap_in(memory::BlockManager& blocks, Budget& budget, SchedulerOutput& out);
  void admit(memory::BlockManager& blocks, Budget& budget, SchedulerOutput& out);
  memory::AllocStatus allocate(memory::BlockManager& blocks, SequenceGroup& g);
  void free_blocks(memory::BlockManager& blocks, SequenceGroup& g);
  static void insert_sorted(std::deque<std::shared_ptr<SequenceGroup>>& q, std::shared_ptr<SequenceGroup> g);

  SchedulerConfig config_;
  std::deque<std::shared_ptr<SequenceGroup>> waiting_, running_, swapped_;
  std::vector<MemoryOp> pending_ops_;
  std::vector<std::shared_ptr<SequenceGroup>> pending_done_;
  std::vector<SeqId> pending_released_;
  SchedulerCounters counters_;
  int block_size_ = 1;  // the block manager's, seen at schedule()
  SeqId next_seq_id_ = 1;
  std::uint64_t next_arrival_ = 0;
};

}  // namespace pagedserve::engine
