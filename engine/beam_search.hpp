#pragma once
// One step of beam search (vLLM's legacy algorithm), on a group whose live
// beams each produced their top 2 * width log-probabilities this step:
//
//   beams  b0 (cum -1.2)   b1 (cum -1.9)          width 2
//   candidates: every (beam, token) scored cum + logprob; keep the best 4
//   finished (eos / length) go aside; keep the best `width` finished
//   running: the best `width` candidates become the new beams
//     b0 used twice -> b0 keeps its sequence, a fork shares b0's blocks
//     b1 unused     -> freed
//
// The search stops when no candidate runs on, or when `width` beams have
// finished and early stopping says the running ones cannot win (always
// with early_stopping = true; else when the worst kept finished score is at
// least the best running one). Scores are length-penalized:
// cumulative_logprob / (prompt + output tokens) ^ length_penalty.

#include <cstdint>
#include <span>
#include <vector>

#include "engine/scheduler.hpp"
#include "engine/step_plan.hpp"

namespace pagedserve::engine {

struct BeamRow {
  Sequence* beam = nullptr;
  const RowResult* row = nullptr;
};

double beam_score(double cumulative_logprob, int num_tokens, float length_penalty);

// Advances `g`; forks and frees through `scheduler`. True when the search is
// over (every live beam released; the results are g.finished_beams, best first).
bool beam_step(SequenceGroup& g, const std::vector<BeamRow>& rows, std::span<const std::int32_t> eos_ids,
               Scheduler& scheduler);

}  // namespace pagedserve::engine
