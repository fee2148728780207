// Constrained decoding in the executor: a sequence whose parameters carry a
// constraint gets a grammar matcher beside its sampler state. Each step its
// mask goes to the sampler with the logits, and the drawn token moves the
// matcher on. A sampler set up again (after a recompute preemption) replays
// the output so far.
//
// A step's masks depend only on where the previous tokens left the
// matchers, so they are computed while the forward pass runs:
//
//   executor thread:  update_samplers  start_masks  forward ......  finish_masks  sample, accept
//   mask thread:                            └─ fill_masks ─────┘  (joined)
//
// Only the mask thread touches the grammars between start and finish (a
// TokenGrammar is not thread-safe, and one thread fills every row's mask
// into the row's own buffer, so rows sharing a schema share its cache).
// Steps without a constrained row skip all of it: no thread hop, no scan.

#include "engine/model_executor.hpp"

namespace pagedserve::engine {

void ModelExecutor::set_vocabulary(std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  grammars_ = std::make_unique<grammar::TokenGrammarPool>(std::move(vocabulary));
}

std::optional<grammar::TokenMatcher> ModelExecutor::start_matcher(const SamplerSetup& setup) {
  if (setup.params->constraint.empty()) return std::nullopt;
  if (!grammars_) throw std::logic_error("a constrained request reached an executor without a vocabulary");
  grammar::TokenMatcher m = grammars_->matcher(setup.params->constraint);
  for (std::size_t i = static_cast<std::size_t>(setup.num_prompt_tokens); i < setup.context.size(); ++i)
    m.accept(setup.context[i]);
  return m;
}

void ModelExecutor::start_masks(const StepPlan& plan) {
  masked_.clear();
  if (num_constrained_ == 0) return;
  for (const RowRequest& row : plan.rows)
    for (SeqId id : row.samplers())
      if (Sampler& s = sampler(id); s.matcher) masked_.push_back(&s);
  if (masked_.empty() || !overlap_masks_) return;
  if (!mask_job_) mask_job_ = std::make_unique<BackgroundJob>([this] { fill_masks(); });
  mask_job_->start();
  masks_running_ = true;
}

void ModelExecutor::finish_masks() {
  if (!masks_running_) return fill_masks();  // serial, or nothing to mask
  masks_running_ = false;
  mask_job_->join();
}

void ModelExecutor::abandon_masks() noexcept {
  if (masks_running_) mask_job_->join_quietly();
  masks_running_ = false;
}

void ModelExecutor::fill_masks() {
  for (Sampler* s : masked_) s->matcher->fill_mask(s->mask);
}

std::span<const std::uint32_t> ModelExecutor::mask_of(const Sampler& s) {
  if (!s.matcher) return {};
  return s.mask;
}

void ModelExecutor::advance_matcher(Sampler& s, std::int32_t token) {
  if (s.matcher) s.matcher->accept(token);
}

}  // namespace pagedserve::engine
