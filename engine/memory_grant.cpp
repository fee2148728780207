#include "engine/memory_grant.hpp"

#include <algorithm>

namespace pagedserve::engine {

using memory::AllocStatus;
using memory::BlockManager;

namespace {

struct Budget {
  int num_seqs = 0;    // live sequences in running
  int num_tokens = 0;  // left this step
};

// One grant: walks the request's groups in the scheduler's order.
class Granter {
 public:
  Granter(MemoryRequest& request, BlockManager& blocks) : req_(request), blocks_(blocks) {
    grant_.step_id = request.step_id;
    grant_.block_size = blocks.block_size();
    grant_.scheduled.reserve(request.seqs.size());
    for (std::uint32_t g = 0; g < request.num_running; ++g) running_.push_back(g);
  }

  MemoryGrant run() {
    apply_ops();
    const bool preempted = reserve_running();
    Budget budget{0, req_.max_num_batched_tokens};
    for (std::uint32_t g : running_) budget.num_seqs += group(g).max_num_running_seqs;
    schedule_running(budget);
    // A step that preempted admits nobody: the pool is short already.
    if (!preempted) {
      swap_in(budget);
      admit(budget);
    }
    return std::move(grant_);
  }

 private:
  const GroupSlots& group(std::uint32_t g) const { return req_.groups[g]; }
  std::span<SeqSlots> seqs(std::uint32_t g) { return req_.seqs_of(req_.groups[g]); }

  void apply_ops();
  bool reserve_running();
  bool can_append_group(std::uint32_t g);
  void append_slots(std::uint32_t g);
  void preempt(std::uint32_t victim);
  void free_blocks(std::uint32_t g);
  void refuse(std::uint32_t g, std::string why);
  std::string never_fits(std::uint32_t g);
  void schedule_running(Budget& budget);
  void schedule_decode(std::uint32_t g, Budget& budget);
  void schedule_prefill(std::uint32_t g, Budget& budget);
  void swap_in(Budget& budget);
  void admit(Budget& budget);
  AllocStatus allocate(std::uint32_t g);
  std::vector<SeqId> live_ids(std::uint32_t g);
  bool is_decoding(std::uint32_t g);

  MemoryRequest& req_;
  BlockManager& blocks_;
  MemoryGrant grant_;
  std::vector<std::uint32_t> running_;  // queue order; the back is preempted first
};

void Granter::apply_ops() {
  for (const auto& op : req_.ops) {
    switch (op.kind) {
      case MemoryOp::Kind::free: blocks_.free(op.seq_id); break;
      case MemoryOp::Kind::fork: blocks_.fork(op.seq_id, op.arg); break;
      case MemoryOp::Kind::computed: blocks_.mark_computed(op.seq_id, static_cast<int>(op.arg)); break;
    }
  }
}

std::vector<SeqId> Granter::live_ids(std::uint32_t g) {
  std::vector<SeqId> ids;
  for (const auto& s : seqs(g)) ids.push_back(s.seq_id);
  return ids;
}

bool Granter::is_decoding(std::uint32_t g) {
  return std::all_of(seqs(g).begin(), seqs(g).end(), [](const SeqSlots& s) { return s.num_uncomputed() == 1; });
}

std::string Granter::never_fits(std::uint32_t g) {
  std::int64_t tokens = 0;
  for (const auto& s : seqs(g)) tokens += s.num_tokens + 1;
  const int bs = blocks_.block_size();
  return "the request needs at least " + std::to_string((tokens + bs - 1) / bs) + " KV blocks of " +
         std::to_string(bs) + " tokens at once, more than the KV pool of " +
         std::to_string(blocks_.config().num_gpu_blocks) + " blocks can hold";
}

// --- running groups -----------------------------------------------------------

// New blocks appending a sequence's unslotted tokens may take: fresh blocks
// plus a copy-on-write of a shared partial last block (an upper bound when
// several sequences share that block: the last one to write keeps it).
int append_cost(const BlockManager& blocks, const SeqSlots& s) {
  const int bs = blocks.block_size();
  const auto& table = blocks.block_table(s.seq_id);
  int need = (s.num_tokens + bs - 1) / bs - static_cast<int>(table.size());
  if (s.num_slotted % bs != 0 && blocks.gpu_pool().block(table.back()).ref_count > 1) ++need;
  return need;
}

bool Granter::can_append_group(std::uint32_t g) {
  int cost = 0, num_growing = 0;
  const SeqSlots* single = nullptr;
  for (const auto& s : seqs(g)) {
    if (s.num_unslotted() <= 0) continue;
    cost += append_cost(blocks_, s);
    ++num_growing;
    single = &s;
  }
  if (num_growing == 1) return blocks_.can_append(single->seq_id, single->num_unslotted());
  return cost <= blocks_.num_free_gpu_blocks();
}

// Gives each running group slots for its new tokens, in queue order,
// preempting from the back (lowest priority, newest) while the pool is short.
bool Granter::reserve_running() {
  bool preempted = false;
  for (std::size_t i = 0; i < running_.size(); ++i) {
    const std::uint32_t g = running_[i];
    const auto s = seqs(g);
    if (std::none_of(s.begin(), s.end(), [](const SeqSlots& x) { return x.num_unslotted() > 0; })) continue;
    while (!can_append_group(g)) {
      const std::uint32_t victim = running_.back();
      running_.pop_back();
      const bool itself = victim == g;
      if (itself && running_.empty()) {
        refuse(victim, never_fits(g));  // alone and still short
      } else {
        preempt(victim);
        preempted = true;
      }
      if (itself) break;
    }
    if (i >= running_.size()) break;  // g itself was the newest: it left
    append_slots(g);
  }
  return preempted;
}

void Granter::append_slots(std::uint32_t g) {
  for (auto& s : seqs(g)) {
    if (s.num_unslotted() <= 0) continue;
    if (auto cow = blocks_.append(s.seq_id, req_.unslotted(s))) grant_.copy_on_write.push_back(*cow);
    s.num_slotted = s.num_tokens;
  }
}

void Granter::preempt(std::uint32_t victim) {
  const auto ids = live_ids(victim);
  if (req_.preemption_mode == PreemptionMode::swap && blocks_.can_swap_out(ids)) {
    auto copies = blocks_.swap_out(ids);
    grant_.swap_out.insert(grant_.swap_out.end(), copies.begin(), copies.end());
    grant_.changes.push_back({victim, GroupFate::preempted_swap, {}, {}});
    return;
  }
  // Recompute: the scheduler keeps the generated tokens, to compute again.
  free_blocks(victim);
  grant_.changes.push_back({victim, GroupFate::preempted_recompute, {}, {}});
}

void Granter::free_blocks(std::uint32_t g) {
  for (auto& s : seqs(g)) {
    if (blocks_.contains(s.seq_id)) blocks_.free(s.seq_id);
    s.num_computed = s.num_slotted = 0;
  }
}

void Granter::refuse(std::uint32_t g, std::string why) {
  free_blocks(g);
  grant_.changes.push_back({g, GroupFate::refused, std::move(why), {}});
}

// --- token budget ---------------------------------------------------------------

void Granter::schedule_decode(std::uint32_t g, Budget& budget) {
  for (const auto& s : seqs(g)) {
    grant_.scheduled.push_back({g, static_cast<std::uint32_t>(&s - req_.seqs.data()), 1, true});
    --budget.num_tokens;
    ++grant_.num_decode_tokens;
  }
}

void Granter::schedule_running(Budget& budget) {
  std::vector<std::uint32_t> prefilling;
  for (std::uint32_t g : running_) {
    if (is_decoding(g)) {
      schedule_decode(g, budget);
    } else {
      prefilling.push_back(g);
    }
  }
  for (std::uint32_t g : prefilling) schedule_prefill(g, budget);
}

// The largest chunks that fit the budget. The samples of one group take
// their logits in the same step (forks and beams advance together), so a
// group whose sequences cannot all reach their end stops each one short.
void Granter::schedule_prefill(std::uint32_t g, Budget& budget) {
  auto live = seqs(g);
  std::vector<int> chunk(live.size());
  int left = budget.num_tokens;
  bool all_reach_end = true;
  for (std::size_t i = 0; i < live.size(); ++i) {
    chunk[i] = std::clamp(left, 0, live[i].num_uncomputed());
    left -= chunk[i];
    all_reach_end = all_reach_end && chunk[i] == live[i].num_uncomputed();
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (live.size() > 1 && !all_reach_end) chunk[i] = std::min(chunk[i], live[i].num_uncomputed() - 1);
    if (chunk[i] <= 0) continue;
    const auto seq = static_cast<std::uint32_t>(&live[i] - req_.seqs.data());
    grant_.scheduled.push_back({g, seq, chunk[i], chunk[i] == live[i].num_uncomputed()});
    budget.num_tokens -= chunk[i];
    grant_.num_prefill_tokens += chunk[i];
  }
}

// --- swapped and waiting groups ----------------------------------------------------

void Granter::swap_in(Budget& budget) {
  const int watermark = blocks_.config().watermark_blocks();
  const std::uint32_t end = req_.num_running + req_.num_swapped;
  for (std::uint32_t g = req_.num_running; g < end; ++g) {
    const auto ids = live_ids(g);
    const int n = static_cast<int>(ids.size());
    if (budget.num_seqs + n > req_.max_num_seqs || budget.num_tokens < (is_decoding(g) ? n : 1)) break;
    // Room for its blocks plus one new block per sequence for the next token.
    std::vector<std::int32_t> unique;
    for (SeqId id : ids) unique.insert(unique.end(), blocks_.block_table(id).begin(), blocks_.block_table(id).end());
    std::sort(unique.begin(), unique.end());
    const int needed = static_cast<int>(std::unique(unique.begin(), unique.end()) - unique.begin()) + n;
    const auto status = blocks_.can_swap_in(ids);
    if (status == AllocStatus::never || blocks_.num_free_gpu_blocks() - needed < watermark) {
      if (status != AllocStatus::never && !running_.empty()) break;
      refuse(g, never_fits(g));
      continue;
    }
    auto copies = blocks_.swap_in(ids);
    grant_.swap_in.insert(grant_.swap_in.end(), copies.begin(), copies.end());
    append_slots(g);
    grant_.changes.push_back({g, GroupFate::swapped_in, {}, {}});
    running_.push_back(g);
    budget.num_seqs += group(g).max_num_running_seqs;
    if (is_decoding(g)) {
      schedule_decode(g, budget);
    } else {
      schedule_prefill(g, budget);
    }
  }
}

void Granter::admit(Budget& budget) {
  const auto first_waiting = req_.num_running + req_.num_swapped;
  for (auto g = first_waiting; g < req_.groups.size() && budget.num_tokens > 0; ++g) {
    const int width = group(g).max_num_running_seqs;
    if (budget.num_seqs + width > req_.max_num_seqs) {
      if (!running_.empty()) break;
      refuse(g, "the request runs " + std::to_string(width) + " sequences at once, more than max_num_seqs (" +
                    std::to_string(req_.max_num_seqs) + ")");
      continue;
    }
    auto status = allocate(g);
    // With nothing running the whole pool was free: it will never fit.
    if (status == AllocStatus::later && running_.empty()) status = AllocStatus::never;
    if (status == AllocStatus::later) break;
    if (status == AllocStatus::never) {
      refuse(g, never_fits(g));
      continue;
    }
    GroupChange admitted{g, GroupFate::admitted, {}, {}};
    for (const auto& s : seqs(g)) admitted.num_computed.push_back(s.num_computed);
    grant_.changes.push_back(std::move(admitted));
    running_.push_back(g);
    budget.num_seqs += width;
    schedule_prefill(g, budget);
  }
}

// Blocks for every live sequence of the group, all or nothing.
AllocStatus Granter::allocate(std::uint32_t g) {
  auto live = seqs(g);
  for (std::size_t i = 0; i < live.size(); ++i) {
    const auto a = blocks_.try_allocate(live[i].seq_id, req_.unslotted(live[i]));
    if (a.status != AllocStatus::ok) {
      for (std::size_t j = 0; j < i; ++j) {
        blocks_.free(live[j].seq_id);
        live[j].num_computed = live[j].num_slotted = 0;
      }
      return a.status;
    }
    live[i].num_computed = a.num_cached_tokens;
    live[i].num_slotted = live[i].num_tokens;
  }
  return AllocStatus::ok;
}

}  // namespace

MemoryGrant grant_memory(MemoryRequest& request, BlockManager& blocks) { return Granter(request, blocks).run(); }

// --- the executor's plan ------------------------------------------------------------

namespace {

// The sampler states a row needs, with the sequence so far as their context.
void add_new_samplers(const SeqSlots& s, const BlockManager& blocks, StepPlan& plan) {
  for (const auto& setup : s.new_samplers) {
    plan.new_samplers.push_back(setup);
    plan.new_samplers.back().context = blocks.tokens(s.seq_id);
  }
}

}  // namespace

StepPlan plan_step(const MemoryRequest& request, const MemoryGrant& grant, const BlockManager& blocks) {
  StepPlan plan;
  plan.step_id = grant.step_id;
  plan.swap_out = grant.swap_out;
  plan.swap_in = grant.swap_in;
  plan.copy_on_write = grant.copy_on_write;
  plan.released_samplers = request.released;
  auto& b = plan.batch;
  const int bs = blocks.block_size();
  // Each sequence's table and tokens, looked up once.
  struct Seen {
    const std::vector<std::int32_t>* table;
    const std::vector<std::int32_t>* tokens;
  };
  std::vector<Seen> seen;
  seen.reserve(grant.scheduled.size());
  for (const auto& slot : grant.scheduled) {
    const SeqId id = request.seqs[slot.seq].seq_id;
    seen.push_back({&blocks.block_table(id), &blocks.tokens(id)});
    b.max_blocks_per_seq = std::max<int>(b.max_blocks_per_seq, static_cast<int>(seen.back().table->size()));
  }
  const auto num_tokens = static_cast<std::size_t>(grant.num_prefill_tokens + grant.num_decode_tokens);
  b.token_ids.reserve(num_tokens);
  b.positions.reserve(num_tokens);
  b.slot_mapping.reserve(num_tokens);
  b.block_tables.reserve(grant.scheduled.size() * static_cast<std::size_t>(b.max_blocks_per_seq));
  b.query_start.push_back(0);
  for (std::size_t i = 0; i < grant.scheduled.size(); ++i) {
    const auto& slot = grant.scheduled[i];
    const SeqSlots& s = request.seqs[slot.seq];
    const auto& table = *seen[i].table;
    const int from = s.num_computed, to = from + slot.num_new_tokens;
    for (int p = from; p < to; ++p) {
      b.token_ids.push_back((*seen[i].tokens)[static_cast<std::size_t>(p)]);
      b.positions.push_back(p);
      b.slot_mapping.push_back(static_cast<std::int64_t>(table[static_cast<std::size_t>(p / bs)]) * bs + p % bs);
    }
    b.query_start.push_back(b.num_tokens());
    b.context_lens.push_back(to);
    b.block_tables.insert(b.block_tables.end(), table.begin(), table.end());
    b.block_tables.resize(b.block_tables.size() + static_cast<std::size_t>(b.max_blocks_per_seq) - table.size(), 0);
    if (!slot.samples) continue;  // a prompt chunk short of the end: no logits
    b.logits_rows.push_back(b.num_tokens() - 1);
    plan.rows.push_back(s.row);
    add_new_samplers(s, blocks, plan);
  }
  return plan;
}

}  // namespace pagedserve::engine
