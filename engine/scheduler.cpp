#include "engine/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::engine {

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

// The waiting groups a request offers: every admission adds a sequence, so
// no step admits more than max_num_seqs of them, and a long queue is not
// copied every step.
bool offer_more(int num_offered, const SchedulerConfig& c) { return num_offered < c.max_num_seqs; }

// Whether the sequence's row makes new sampler states when it first samples:
// a prompt forking into its samples makes one per sample.
bool makes_samplers(const SequenceGroup& g, const Sequence& seq) {
  if (g.is_beam_search()) return false;
  return (!g.forked && g.width() > 1) || !seq.has_sampler;
}

SamplerSetup sampler_setup(const SequenceGroup& g, SeqId id, int index) {
  SamplerSetup s;
  s.seq_id = id;
  s.params = g.shared_params();
  s.num_prompt_tokens = g.prompt_len();
  if (g.params().seed) s.seed = *g.params().seed + static_cast<std::uint64_t>(index);
  return s;
}

// What to draw from the row of `seq`, and the sampler states it needs.
void describe_row(const SequenceGroup& g, const Sequence& seq, SeqSlots& s) {
  s.row.seq_id = seq.seq_id;
  if (g.is_beam_search()) {
    s.row.draws = false;
    s.row.num_candidates = 2 * g.width();
    return;
  }
  if (!g.forked && g.width() > 1) {
    // The prompt's first sample forks it: every sample draws from this row.
    s.row.fork_ids = g.reserved_ids();
    for (std::size_t i = 0; i < s.row.fork_ids.size(); ++i)
      s.new_samplers.push_back(sampler_setup(g, s.row.fork_ids[i], static_cast<int>(i)));
  } else if (!seq.has_sampler) {
    s.new_samplers.push_back(sampler_setup(g, seq.seq_id, seq.index));
  }
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
  pending_ops_.push_back({MemoryOp::Kind::fork, parent.seq_id, child.seq_id});
  child.holds_blocks = true;
}

// Idempotent: a sequence released twice (its sample, then its group, ended)
// is freed once.
void Scheduler::release(Sequence& seq) {
  if (seq.holds_blocks) pending_ops_.push_back({MemoryOp::Kind::free, seq.seq_id, 0});
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
      pending_ops_.push_back({MemoryOp::Kind::computed, s.seq->seq_id, s.seq->num_computed});
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

MemoryRequest Scheduler::memory_request(std::uint64_t step_id) {
  next_output_ = SchedulerOutput{};
  take_pending(next_output_);
  ++counters_.num_steps;
  MemoryRequest req;
  req.step_id = step_id;
  req.max_num_seqs = config_.max_num_seqs;
  req.max_num_batched_tokens = config_.max_num_batched_tokens;
  req.preemption_mode = config_.preemption_mode;
  req.ops = std::move(pending_ops_);
  pending_ops_.clear();
  req.released = next_output_.released;
  asked_groups_.clear();
  asked_seqs_.clear();
  const std::size_t num_groups = running_.size() + swapped_.size() + std::min<std::size_t>(waiting_.size(), config_.max_num_seqs);
  req.groups.reserve(num_groups);
  req.seqs.reserve(num_groups);
  req.tokens.reserve(num_groups);
  for (const auto& g : running_) describe(g, req);
  for (const auto& g : swapped_) describe(g, req);
  req.num_running = static_cast<std::uint32_t>(running_.size());
  req.num_swapped = static_cast<std::uint32_t>(swapped_.size());
  for (const auto& g : waiting_) {
    if (!offer_more(static_cast<int>(req.groups.size() - req.num_running - req.num_swapped), config_)) break;
    describe(g, req);
  }
  return req;
}

// The queues' groups leave for good: memory changes go into the request,
// groups that are over are reported done.
void Scheduler::take_pending(SchedulerOutput& out) {
  for (const auto& g : running_)
    if (g->over) pending_done_.push_back(g);
  std::erase_if(running_, [](const GroupPtr& g) { return g->over; });
  out.done = std::move(pending_done_);
  out.released = std::move(pending_released_);
  pending_done_.clear();
  pending_released_.clear();
}

void Scheduler::describe(const GroupPtr& g, MemoryRequest& req) {
  GroupSlots slots;
  slots.max_num_running_seqs = g->max_num_running_seqs();
  slots.first_seq = static_cast<std::uint32_t>(req.seqs.size());
  g->for_each_live([&](Sequence& seq) {
    SeqSlots& s = req.seqs.emplace_back();
    s.seq_id = seq.seq_id;
    s.num_tokens = seq.num_tokens();
    s.num_computed = seq.num_computed;
    s.num_slotted = seq.num_slotted;
    s.first_token = static_cast<std::uint32_t>(req.tokens.size());
    req.tokens.insert(req.tokens.end(), seq.token_ids.begin() + seq.num_slotted, seq.token_ids.end());
    describe_row(*g, seq, s);
    asked_seqs_.push_back(&seq);
  });
  slots.num_seqs = static_cast<std::uint32_t>(req.seqs.size()) - slots.first_seq;
  req.groups.push_back(slots);
  asked_groups_.push_back(g.get());
}

namespace {

// Takes `g` out of `q` (null if it is not there).
GroupPtr take(std::deque<GroupPtr>& q, const SequenceGroup* g) {
  auto it = std::find_if(q.rbegin(), q.rend(), [g](const GroupPtr& x) { return x.get() == g; });  // victims sit at the back
  if (it == q.rend()) return nullptr;
  GroupPtr taken = std::move(*it);
  q.erase(std::next(it).base());
  return taken;
}

}  // namespace

SchedulerOutput Scheduler::apply(const MemoryGrant& grant) {
  SchedulerOutput out = std::move(next_output_);
  block_size_ = grant.block_size;
  for (const auto& change : grant.changes) apply_change(change, out);
  out.seqs.reserve(grant.scheduled.size());
  for (const auto& slot : grant.scheduled) {
    SequenceGroup& g = *asked_groups_[slot.group];
    Sequence& seq = *asked_seqs_[slot.seq];
    // Only newly sampled tokens wait for slots, and a sequence with one is
    // decoding, and every running decode is scheduled: so every sequence
    // whose tokens the grant slotted is here.
    seq.num_slotted = seq.num_tokens();
    if (slot.samples && makes_samplers(g, seq)) seq.has_sampler = true;
    out.seqs.push_back({&g, &seq, slot.num_new_tokens, slot.samples});
  }
  out.swap_out = grant.swap_out;
  out.swap_in = grant.swap_in;
  out.copy_on_write = grant.copy_on_write;
  out.num_prefill_tokens = grant.num_prefill_tokens;
  out.num_decode_tokens = grant.num_decode_tokens;
  return out;
}

void Scheduler::apply_change(const GroupChange& change, SchedulerOutput& out) {
  SequenceGroup* asked = asked_groups_[change.group];
  GroupPtr g;
  switch (change.fate) {
    case GroupFate::preempted_swap:
      g = take(running_, asked);
      g->set_status(SeqStatus::swapped);
      ++counters_.num_preemptions_swap;
      out.preempted.push_back(g);
      insert_sorted(swapped_, g);
      break;
    case GroupFate::preempted_recompute:
      // The generated tokens become part of what the group computes again
      // on readmission; it goes back to the front of its priority class.
      g = take(running_, asked);
      g->for_each_live([](Sequence& s) {
        s.holds_blocks = false;
        s.num_computed = s.num_slotted = 0;
      });
      g->set_status(SeqStatus::waiting);
      ++counters_.num_preemptions_recompute;
      out.preempted.push_back(g);
      insert_sorted(waiting_, g);
      break;
    case GroupFate::swapped_in:
      g = take(swapped_, asked);
      g->set_status(SeqStatus::running);
      insert_sorted(running_, g);
      break;
    case GroupFate::admitted: {
      g = take(waiting_, asked);
      std::size_t i = 0;
      g->for_each_live([&](Sequence& s) {
        s.num_computed = change.num_computed[i++];
        s.num_slotted = s.num_tokens();
        s.holds_blocks = true;
      });
      if (!g->admitted_once) {
        g->num_cached_prompt_tokens = g->seqs.front()->num_computed;
        g->first_scheduled_time = Clock::now();
      }
      g->admitted_once = true;
      g->set_status(SeqStatus::running);
      insert_sorted(running_, g);
      break;
    }
    case GroupFate::refused:
      for (auto* q : {&running_, &swapped_, &waiting_})
        if (!g) g = take(*q, asked);
      refuse(g, change.error, out);
      break;
  }
}

// The block manager freed its blocks: the group, out of its queue, ends
// with an error.
void Scheduler::refuse(const GroupPtr& g, const std::string& why, SchedulerOutput& out) {
  for (auto& s : g->seqs) {
    s->holds_blocks = false;
    s->num_computed = s->num_slotted = 0;
    pending_released_.push_back(s->seq_id);  // its samplers go with the next plan
  }
  g->error = why;
  g->over = true;
  ++counters_.num_rejected;
  out.rejected.push_back(g);
  out.done.push_back(g);
}

}  // namespace pagedserve::engine
