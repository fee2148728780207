// ModelExecutor's draws through Backend::sample: each plan row becomes one
// kernels::SampleRow per sampler (and one for beam-search candidates), the
// backend draws them all at once where the logits are, and the results go
// back into the samplers and the StepResult in the same order.

#include "engine/model_executor.hpp"

#include <algorithm>

namespace pagedserve::engine {

namespace {

bool has_penalties(const model::SamplingParams& p) {
  return p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
}

// Every token the penalties act on, once: the whole context when the
// repetition penalty is on, else the output tokens.
std::vector<kernels::PenaltyToken> penalty_tokens(const model::SamplingParams& p, const model::SamplerState& state,
                                                  const std::vector<std::int32_t>& context) {
  std::vector<kernels::PenaltyToken> out;
  if (!has_penalties(p)) return out;
  auto count = [&](std::int32_t t) {
    auto it = state.output_counts.find(t);
    return it == state.output_counts.end() ? 0 : it->second;
  };
  if (p.repetition_penalty != 1.0f) {
    std::vector<std::int32_t> tokens(context);
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    for (auto t : tokens) out.push_back({t, count(t)});
  } else {
    for (const auto& [t, n] : state.output_counts) out.push_back({t, n});
  }
  return out;
}

kernels::SampleRow draw_row(const model::SamplingParams& p, std::uint64_t seed, std::size_t context_len,
                            std::int32_t logits_row) {
  kernels::SampleRow r;
  r.logits_row = logits_row;
  r.temperature = p.temperature;
  r.top_k = p.top_k;
  r.top_p = p.top_p;
  r.min_p = p.min_p;
  r.repetition_penalty = p.repetition_penalty;
  r.presence_penalty = p.presence_penalty;
  r.frequency_penalty = p.frequency_penalty;
  r.seed = seed;
  // The position of the new token: a preempted sequence recomputed from its
  // prompt draws the same tokens again.
  r.counter = context_len;
  r.num_top_logprobs = p.logprobs;
  return r;
}

std::vector<model::TokenChoice> choices(const kernels::SampleOutput& out, const kernels::SampleRow& row) {
  std::vector<model::TokenChoice> v;
  v.reserve(static_cast<std::size_t>(row.num_top_logprobs));
  for (int k = 0; k < row.num_top_logprobs; ++k) v.push_back({out.top[row.first_top + k].token_id, out.top[row.first_top + k].logprob});
  return v;
}

}  // namespace

void ModelExecutor::sample_on_backend(const StepPlan& plan, const kernels::Tensor& logits, StepResult& out) {
  sample_batch_.clear();
  for (std::size_t i = 0; i < plan.rows.size(); ++i) {
    const RowRequest& row = plan.rows[i];
    const auto logits_row = static_cast<std::int32_t>(i);
    if (row.num_candidates > 0) {
      kernels::SampleRow r;
      r.logits_row = logits_row;
      r.draws = 0;
      r.num_top_logprobs = row.num_candidates;
      sample_batch_.add(r);
    }
    for (SeqId id : row.samplers()) {
      const Sampler& s = sampler(id);
      sample_batch_.add(draw_row(*s.params, s.seed, s.context.size(), logits_row),
                        penalty_tokens(*s.params, s.state, s.context), mask_of(s));
    }
  }
  if (!sample_batch_.rows.empty()) backend_.sample(logits, sample_batch_, sampled_);  // prompt chunks draw nothing yet

  out.rows.reserve(plan.rows.size());
  out.samples.reserve(plan.rows.size());
  std::size_t j = 0;
  for (const RowRequest& row : plan.rows) {
    auto& r = out.add_row();
    if (row.num_candidates > 0) r.candidates = choices(sampled_, sample_batch_.rows[j++]);
    for (SeqId id : row.samplers()) {
      Sampler& s = sampler(id);
      const std::int32_t token = sampled_.token_ids[j];
      advance_matcher(s, token);
      s.context.push_back(token);
      s.state.record(token);
      out.add_sample({id, token, sampled_.logprobs[j], choices(sampled_, sample_batch_.rows[j])});
      ++j;
    }
  }
}

}  // namespace pagedserve::engine
