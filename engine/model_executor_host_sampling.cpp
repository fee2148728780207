// ModelExecutor's draws on the host, from the logits the forward pass left
// in logits_. A row's draw reads only its own logits and changes only its
// own samplers' state (each sampler belongs to one row), so the rows are
// drawn on all the CPU's threads at once: at batch 64 on stories15M the
// draws were a third of a step on one thread while the others waited.
// What follows a draw in row order (the grammar matchers, the contexts,
// the StepResult) is done after, on this thread, so results are the same
// bits whatever the thread count.

#include <exception>

#include "engine/model_executor.hpp"

namespace pagedserve::engine {

namespace {

// One row's draws, made in parallel and recorded in order.
struct RowDraws {
  std::vector<model::TokenChoice> candidates;  // beam search
  std::vector<model::SampleResult> samples;    // one per sampler of the row
};

}  // namespace

void ModelExecutor::sample_on_host(const StepPlan& plan, StepResult& out) {
  const std::size_t vocab = static_cast<std::size_t>(model_.config().vocab_size);
  const auto num_rows = static_cast<std::ptrdiff_t>(plan.rows.size());
  std::vector<RowDraws> drawn(plan.rows.size());
  std::vector<std::exception_ptr> failed(plan.rows.size());
#pragma omp parallel for schedule(dynamic) if (num_rows > 1)
  for (std::ptrdiff_t i = 0; i < num_rows; ++i) {
    const auto row_index = static_cast<std::size_t>(i);
    try {
      const RowRequest& row = plan.rows[row_index];
      const auto logits = std::span<const float>(logits_).subspan(row_index * vocab, vocab);
      RowDraws& d = drawn[row_index];
      if (row.num_candidates > 0) d.candidates = model::top_logprobs(logits, row.num_candidates);
      for (SeqId id : row.samplers()) {
        Sampler& s = sampler(id);
        d.samples.push_back(model::sample(logits, *s.params, s.state, s.context, mask_of(s)));
      }
    } catch (...) {
      failed[row_index] = std::current_exception();  // an exception must not leave the parallel region
    }
  }
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);

  out.rows.reserve(plan.rows.size());
  out.samples.reserve(plan.rows.size());
  for (std::size_t i = 0; i < plan.rows.size(); ++i) {
    auto& r = out.add_row();
    r.candidates = std::move(drawn[i].candidates);
    const auto ids = plan.rows[i].samplers();
    for (std::size_t k = 0; k < drawn[i].samples.size(); ++k) {
      Sampler& s = sampler(ids[k]);
      auto& d = drawn[i].samples[k];
      advance_matcher(s, d.token_id);
      s.context.push_back(d.token_id);
      out.add_sample({ids[k], d.token_id, d.logprob, std::move(d.top_logprobs)});
    }
  }
}

}  // namespace pagedserve::engine
