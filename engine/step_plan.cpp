#include "engine/step_plan.hpp"

#include <algorithm>

namespace pagedserve::engine {

namespace {

SamplerSetup setup_for(const SequenceGroup& g, const Sequence& seq, SeqId id, int index) {
  SamplerSetup s;
  s.seq_id = id;
  s.params = g.shared_params();
  if (g.params().seed) s.seed = *g.params().seed + static_cast<std::uint64_t>(index);
  s.context = seq.token_ids;
  return s;
}

// What to draw from the row of `seq`; creates the sampler states it needs.
RowRequest row_request(SequenceGroup& g, Sequence& seq, StepPlan& plan) {
  RowRequest r;
  r.seq_id = seq.seq_id;
  if (g.is_beam_search()) {
    r.draws = false;
    r.num_candidates = 2 * g.width();
    return r;
  }
  if (!g.forked && g.width() > 1) {
    // The prompt's first sample forks it: every sample draws from this row.
    r.fork_ids = g.reserved_ids();
    for (std::size_t i = 0; i < r.fork_ids.size(); ++i)
      plan.new_samplers.push_back(setup_for(g, seq, r.fork_ids[i], static_cast<int>(i)));
    seq.has_sampler = true;
    return r;
  }
  if (!seq.has_sampler) {
    plan.new_samplers.push_back(setup_for(g, seq, seq.seq_id, seq.index));
    seq.has_sampler = true;
  }
  return r;
}

}  // namespace

StepPlan plan_step(const SchedulerOutput& out, const memory::BlockManager& blocks, std::uint64_t step_id) {
  StepPlan plan;
  plan.step_id = step_id;
  plan.swap_out = out.swap_out;
  plan.swap_in = out.swap_in;
  plan.copy_on_write = out.copy_on_write;
  plan.released_samplers = out.released;
  auto& b = plan.batch;
  const int bs = blocks.block_size();
  for (const auto& s : out.seqs)
    b.max_blocks_per_seq = std::max<int>(b.max_blocks_per_seq, static_cast<int>(blocks.block_table(s.seq->seq_id).size()));
  const std::size_t num_tokens = static_cast<std::size_t>(out.num_batched_tokens());
  b.token_ids.reserve(num_tokens);
  b.positions.reserve(num_tokens);
  b.slot_mapping.reserve(num_tokens);
  b.block_tables.reserve(out.seqs.size() * static_cast<std::size_t>(b.max_blocks_per_seq));
  b.query_start.push_back(0);
  for (const auto& s : out.seqs) {
    const auto& table = blocks.block_table(s.seq->seq_id);
    const int from = s.seq->num_computed, to = from + s.num_new_tokens;
    for (int p = from; p < to; ++p) {
      b.token_ids.push_back(s.seq->token_ids[static_cast<std::size_t>(p)]);
      b.positions.push_back(p);
      b.slot_mapping.push_back(static_cast<std::int64_t>(table[static_cast<std::size_t>(p / bs)]) * bs + p % bs);
    }
    b.query_start.push_back(b.num_tokens());
    b.context_lens.push_back(to);
    b.block_tables.insert(b.block_tables.end(), table.begin(), table.end());
    b.block_tables.resize(b.block_tables.size() + static_cast<std::size_t>(b.max_blocks_per_seq) - table.size(), 0);
    if (!s.samples) continue;  // a prompt chunk short of the end: no logits
    b.logits_rows.push_back(b.num_tokens() - 1);
    plan.rows.push_back(row_request(*s.group, *s.seq, plan));
  }
  return plan;
}

}  // namespace pagedserve::engine
