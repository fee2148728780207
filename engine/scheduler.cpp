#include "engine/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::engine {

using memory::AllocStatus;
using memory::BlockManager;

void SchedulerConfig::validate() const {
  if (max_num_seqs < 1) throw std::invalid_argument("max_num_seqs must be at least 1");
  if (max_num_batched_tokens < max_num_seqs)
    throw std::invalid_argument("max_num_batched_tokens (" + std::to_string(max_num_batched_tokens) +
                                ") must be at least max_num_seqs (" + std::to_string(max_num_seqs) +
                                "): every running sequence decodes one token per step");
}

Scheduler::Scheduler(const SchedulerConfig& config) : config_(config) { config_.validate(); }

namespace {

using GroupPtr = std::shared_ptr<SequenceGroup>;

// New blocks `append(seq, k tokens)` may take: fresh blocks plus a
// copy-on-write of a shared partial last block (an upper bound when several
// sequences share that block: the last one to write keeps it).
int append_cost(const BlockManager& blocks, const Sequence& s) {
  const int bs = blocks.block_size();
  const int len = s.num_slotted;
  const auto& table = blocks.block_table(s.seq_id);
  int need = (len + s.num_unslotted() + bs - 1) / bs - static_cast<int>(table.size());
  if (len % bs != 0 && blocks.gpu_pool().block(table.back()).ref_count > 1) ++need;
  return need;
}

bool can_append_group(const BlockManager& blocks, SequenceGroup& g) {
  int cost = 0, num_growing = 0;
  const Sequence* single = nullptr;
  g.for_each_live([&](const Sequence& s) {
    if (s.num_unslotted() <= 0) return;
    cost += append_cost(blocks, s);
    ++num_growing;
    single = &s;
  });
  if (num_growing == 1) return blocks.can_append(single->seq_id, single->num_unslotted());
  return cost <= blocks.num_free_gpu_blocks();
}

bool needs_slots(SequenceGroup& g) {
  bool needs = false;
  g.for_each_live([&](const Sequence& s) { needs = needs || s.num_unslotted() > 0; });
  return needs;
}

bool is_decoding(SequenceGroup& g) {
  bool decoding = true;
  g.for_each_live([&](const Sequence& s) { decoding = decoding && s.num_uncomputed() == 1; });
  return decoding;
}

std::vector<SeqId> live_ids(SequenceGroup& g) {
  std::vector<SeqId> ids;
  g.for_each_live([&](const Sequence& s) { ids.push_back(s.seq_id); });
  return ids;
}

std::string never_fits(const BlockManager& blocks, SequenceGroup& g) {
  std::int64_t tokens = 0;
  g.for_each_live([&](const Sequence& s) { tokens += s.num_tokens() + 1; });
  const int bs = blocks.block_size();
  return "the request needs at least " + std::to_string((tokens + bs - 1) / bs) + " KV blocks of " +
         std::to_string(bs) + " tokens at once, more than the KV pool of " +
         std::to_string(blocks.config().num_gpu_blocks) + " blocks can hold";
}

}  // namespace

void Scheduler::insert_sorted(std::deque<GroupPtr>& q, GroupPtr g) {
  auto at = std::upper_bound(q.begin(), q.end(), g, [](const GroupPtr& a, const GroupPtr& b) { return runs_before(*a, *b); });
  q.insert(at, std::move(g));
}

void Scheduler::add(GroupPtr group) {
  group->set_status(SeqStatus::waiting);
  insert_sorted(waiting_, std::move(group));
}

GroupPtr Scheduler::abort(const std::string& request_id) {
  for (auto* q : {&waiting_, &running_, &swapped_}) {
    auto it = std::find_if(q->begin(), q->end(), [&](const GroupPtr& g) { return g->request_id() == request_id; });
    if (it == q->end() || (*it)->over) continue;
    GroupPtr g = *it;
    q->erase(it);
    g->over = true;
    for (auto& s : g->seqs) release(*s);
    // Samplers of a fork planned but not yet made go too.
    pending_released_.insert(pending_released_.end(), g->reserved_ids().begin(), g->reserved_ids().end());
    pending_done_.push_back(g);
    return g;
  }
  return nullptr;
}

void Scheduler::fork(const Sequence& parent, Sequence& child) {
  pending_ops_.push_back({MemoryOp::fork, parent.seq_id, child.seq_id});
  child.holds_blocks = true;
}

// Idempotent: a sequence released twice (its sample, then its group, ended)
// is freed once.
void Scheduler::release(Sequence& seq) {
  if (seq.holds_blocks) pending_ops_.push_back({MemoryOp::free, seq.seq_id, 0});
  if (seq.holds_blocks || seq.has_sampler) pending_released_.push_back(seq.seq_id);
  seq.holds_blocks = false;
  seq.has_sampler = false;
  seq.num_slotted = 0;
}

void Scheduler::finish(SequenceGroup& group) {
  for (auto& s : group.seqs) release(*s);
  group.over = true;  // leaves running at the next schedule()
}

void Scheduler::on_step_executed(const SchedulerOutput& out) {
  for (const auto& s : out.seqs) {
    if (s.group->over || s.seq->is_finished()) continue;
    const int from = s.seq->num_computed;
    s.seq->num_computed += s.num_new_tokens;
    const int prompt_part = std::clamp(s.seq->prompt_len - from, 0, s.num_new_tokens);
    counters_.num_prefill_tokens += prompt_part;
    counters_.num_decode_tokens += s.num_new_tokens - prompt_part;
    // The block manager only needs to hear when a block fills: full
    // computed blocks are what the prefix cache takes.
    if (s.seq->num_computed / block_size_ > from / block_size_)
      pending_ops_.push_back({MemoryOp::computed, s.seq->seq_id, s.seq->num_computed});
  }
}

bool Scheduler::has_work() const {
  return !waiting_.empty() || !running_.empty() || !swapped_.empty() || !pending_ops_.empty() ||
         !pending_done_.empty() || !pending_released_.empty();
}

int Scheduler::num_live_running_seqs() const {
  int n = 0;
  for (const auto& g : running_) n += g->num_live_seqs();
  return n;
}

// --- one step ------------------------------------------------------------------

SchedulerOutput Scheduler::schedule(BlockManager& blocks) {
  SchedulerOutput out;
  block_size_ = blocks.block_size();
  apply_pending(blocks, out);
  ++counters_.num_steps;
  const bool preempted = reserve_running(blocks, out);
  Budget budget{0, config_.max_num_batched_tokens};
  for (const auto& g : running_) budget.num_seqs += g->max_num_running_seqs();
  schedule_running(budget, out);
  // A step that preempted admits nobody: the pool is short already.
  if (!preempted) {
    swap_in(blocks, budget, out);
    admit(blocks, budget, out);
  }
  return out;
}

void Scheduler::apply_pending(BlockManager& blocks, SchedulerOutput& out) {
  for (const auto& op : pending_ops_) {
    switch (op.kind) {
      case MemoryOp::free: blocks.free(op.seq); break;
      case MemoryOp::fork: blocks.fork(op.seq, op.other); break;
      case MemoryOp::computed: blocks.mark_computed(op.seq, static_cast<int>(op.other)); break;
    }
  }
  pending_ops_.clear();
  for (const auto& g : running_)
    if (g->over) pending_done_.push_back(g);
  std::erase_if(running_, [](const GroupPtr& g) { return g->over; });
  out.done = std::move(pending_done_);
  out.released = std::move(pending_released_);
  pending_done_.clear();
  pending_released_.clear();
}

// Gives each running group slots for its new tokens, in queue order,
// preempting from the back (lowest priority, newest) while the pool is short.
bool Scheduler::reserve_running(BlockManager& blocks, SchedulerOutput& out) {
  for (std::size_t i = 0; i < running_.size(); ++i) {
    SequenceGroup* g = running_[i].get();
    if (!needs_slots(*g)) continue;
    while (!can_append_group(blocks, *g)) {
      GroupPtr victim = std::move(running_.back());
      running_.pop_back();
      const bool itself = victim.get() == g;
      if (itself && running_.empty()) {
        reject(blocks, std::move(victim), never_fits(blocks, *g), out);  // alone and still short
      } else {
        preempt(blocks, std::move(victim), out);
      }
      if (itself) break;
    }
    if (i >= running_.size()) break;  // g itself was the newest: it left
    append_slots(blocks, *g, out);
  }
  return !out.preempted.empty();
}

void Scheduler::append_slots(BlockManager& blocks, SequenceGroup& g, SchedulerOutput& out) {
  g.for_each_live([&](Sequence& s) {
    if (s.num_unslotted() <= 0) return;
    auto fresh = std::span<const std::int32_t>(s.token_ids).subspan(static_cast<std::size_t>(s.num_slotted));
    if (auto cow = blocks.append(s.seq_id, fresh)) out.copy_on_write.push_back(*cow);
    s.num_slotted = s.num_tokens();
  });
}

void Scheduler::preempt(BlockManager& blocks, GroupPtr victim, SchedulerOutput& out) {
  const auto ids = live_ids(*victim);
  if (config_.preemption_mode == PreemptionMode::swap && blocks.can_swap_out(ids)) {
    auto copies = blocks.swap_out(ids);
    out.swap_out.insert(out.swap_out.end(), copies.begin(), copies.end());
    victim->set_status(SeqStatus::swapped);
    ++counters_.num_preemptions_swap;
    out.preempted.push_back(victim);
    insert_sorted(swapped_, std::move(victim));
    return;
  }
  // Recompute: the generated tokens become part of what the group computes
  // again on readmission; it goes back to the front of its priority class.
  free_blocks(blocks, *victim);
  victim->set_status(SeqStatus::waiting);
  ++counters_.num_preemptions_recompute;
  out.preempted.push_back(victim);
  insert_sorted(waiting_, std::move(victim));
}

void Scheduler::free_blocks(BlockManager& blocks, SequenceGroup& g) {
  g.for_each_live([&](Sequence& s) {
    if (s.holds_blocks) blocks.free(s.seq_id);
    s.holds_blocks = false;
    s.num_computed = 0;
    s.num_slotted = 0;
  });
}

void Scheduler::reject(BlockManager& blocks, GroupPtr g, std::string why, SchedulerOutput& out) {
  free_blocks(blocks, *g);
  for (auto& s : g->seqs) out.released.push_back(s->seq_id);
  g->error = std::move(why);
  g->over = true;
  ++counters_.num_rejected;
  out.rejected.push_back(g);
  out.done.push_back(std::move(g));
}

// --- token budget ---------------------------------------------------------------

void Scheduler::schedule_running(Budget& budget, SchedulerOutput& out) {
  for (const auto& g : running_) {
    if (!is_decoding(*g)) continue;
    g->for_each_live([&](Sequence& s) { out.seqs.push_back({g.get(), &s, 1, true}); });
    const int n = g->num_live_seqs();
    budget.num_tokens -= n;
    out.num_decode_tokens += n;
  }
  for (const auto& g : running_)
    if (!is_decoding(*g)) schedule_prefill(*g, budget, out);
}

// The largest chunks that fit the budget. The samples of one group take
// their logits in the same step (forks and beams advance together), so a
// group whose sequences cannot all reach their end stops each one short.
void Scheduler::schedule_prefill(SequenceGroup& g, Budget& budget, SchedulerOutput& out) {
  auto live = g.live_seqs();
  std::vector<int> chunk(live.size());
  int left = budget.num_tokens;
  bool all_reach_end = true;
  for (std::size_t i = 0; i < live.size(); ++i) {
    chunk[i] = std::clamp(left, 0, live[i]->num_uncomputed());
    left -= chunk[i];
    all_reach_end = all_reach_end && chunk[i] == live[i]->num_uncomputed();
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (live.size() > 1 && !all_reach_end) chunk[i] = std::min(chunk[i], live[i]->num_uncomputed() - 1);
    if (chunk[i] <= 0) continue;
    out.seqs.push_back({&g, live[i], chunk[i], chunk[i] == live[i]->num_uncomputed()});
    budget.num_tokens -= chunk[i];
    out.num_prefill_tokens += chunk[i];
  }
}

// --- swapped and waiting groups ----------------------------------------------------

void Scheduler::swap_in(BlockManager& blocks, Budget& budget, SchedulerOutput& out) {
  const int watermark = static_cast<int>(blocks.config().watermark * blocks.config().num_gpu_blocks);
  while (!swapped_.empty()) {
    GroupPtr g = swapped_.front();
    const auto ids = live_ids(*g);
    const int n = static_cast<int>(ids.size());
    if (budget.num_seqs + n > config_.max_num_seqs || budget.num_tokens < (is_decoding(*g) ? n : 1)) break;
    // Room for its blocks plus one new block per sequence for the next token.
    std::vector<std::int32_t> unique;
    for (SeqId id : ids) unique.insert(unique.end(), blocks.block_table(id).begin(), blocks.block_table(id).end());
    std::sort(unique.begin(), unique.end());
    const int needed = static_cast<int>(std::unique(unique.begin(), unique.end()) - unique.begin()) + n;
    const auto status = blocks.can_swap_in(ids);
    if (status == AllocStatus::never || blocks.num_free_gpu_blocks() - needed < watermark) {
      if (status != AllocStatus::never && !running_.empty()) break;
      swapped_.pop_front();
      reject(blocks, g, never_fits(blocks, *g), out);
      continue;
    }
    swapped_.pop_front();
    auto copies = blocks.swap_in(ids);
    out.swap_in.insert(out.swap_in.end(), copies.begin(), copies.end());
    append_slots(blocks, *g, out);
    g->set_status(SeqStatus::running);
    insert_sorted(running_, g);
    budget.num_seqs += g->max_num_running_seqs();
    if (is_decoding(*g)) {
      g->for_each_live([&](Sequence& s) { out.seqs.push_back({g.get(), &s, 1, true}); });
      budget.num_tokens -= n;
      out.num_decode_tokens += n;
    } else {
      schedule_prefill(*g, budget, out);
    }
  }
}

void Scheduler::admit(BlockManager& blocks, Budget& budget, SchedulerOutput& out) {
  while (!waiting_.empty() && budget.num_tokens > 0) {
    GroupPtr g = waiting_.front();
    if (budget.num_seqs + g->max_num_running_seqs() > config_.max_num_seqs) {
      if (!running_.empty()) break;
      waiting_.pop_front();
      reject(blocks, g, "the request runs " + std::to_string(g->max_num_running_seqs()) +
                            " sequences at once, more than max_num_seqs (" + std::to_string(config_.max_num_seqs) + ")",
             out);
      continue;
    }
    auto status = allocate(blocks, *g);
    // With nothing running the whole pool was free: it will never fit.
    if (status == AllocStatus::later && running_.empty()) status = AllocStatus::never;
    if (status == AllocStatus::later) break;
    waiting_.pop_front();
    if (status == AllocStatus::never) {
      reject(blocks, g, never_fits(blocks, *g), out);
      continue;
    }
    g->set_status(SeqStatus::running);
    insert_sorted(running_, g);
    budget.num_seqs += g->max_num_running_seqs();
    schedule_prefill(*g, budget, out);
  }
}

// Blocks for every live sequence of the group, all or nothing.
AllocStatus Scheduler::allocate(BlockManager& blocks, SequenceGroup& g) {
  auto live = g.live_seqs();
  for (std::size_t i = 0; i < live.size(); ++i) {
    const auto status = blocks.can_allocate(live[i]->token_ids);
    if (status != AllocStatus::ok) {
      for (std::size_t j = 0; j < i; ++j) {
        blocks.free(live[j]->seq_id);
        live[j]->holds_blocks = false;
        live[j]->num_computed = live[j]->num_slotted = 0;
      }
      return status;
    }
    live[i]->num_computed = blocks.allocate(live[i]->seq_id, live[i]->token_ids);
    live[i]->num_slotted = live[i]->num_tokens();
    live[i]->holds_blocks = true;
  }
  if (!g.admitted_once) g.num_cached_prompt_tokens = live[0]->num_computed;
  g.admitted_once = true;
  return AllocStatus::ok;
}

}  // namespace pagedserve::engine
