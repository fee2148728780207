// Constrained decoding in the executor: a sequence whose parameters carry a
// constraint gets a grammar matcher beside its sampler state. Each step its
// mask goes to the sampler with the logits, and the drawn token moves the
// matcher on. A sampler set up again (after a recompute preemption) replays
// the output so far. Unconstrained sequences never reach this code.

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

std::span<const std::uint32_t> ModelExecutor::mask_of(const Sampler& s) {
  if (!s.matcher) return {};
  mask_.resize(grammar::mask_words(grammars_->vocabulary().size()));  // the full vocabulary, as wide as a logits row
  s.matcher->fill_mask(mask_);
  return mask_;
}

void ModelExecutor::advance_matcher(Sampler& s, std::int32_t token) {
  if (s.matcher) s.matcher->accept(token);
}

}  // namespace pagedserve::engine
