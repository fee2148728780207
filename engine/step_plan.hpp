#pragma once
// What the executor does in one step, as plain data: the block copies to
// make first, the batch to run (kernels::BatchMetadata), and what to draw
// from each logits row. The block manager's side builds it from a granted
// MemoryRequest (engine/memory_grant.hpp); an executor runs it.
//
//   order on the executor: swap_out, swap_in, copy_on_write, forward, sample
//   (constrained rows' grammar masks are computed beside the forward)
//   (a block freed by a swap-out may be the target of a copy-on-write or of
//   a new token in the same step, so the swap-out reads it first)
//
// Invariant: rows.size() == batch.logits_rows.size(); rows[i] belongs to the
// i-th sequence of the batch that samples.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kernels/batch.hpp"
#include "memory/block_manager.hpp"
#include "model/sampler.hpp"

namespace pagedserve::engine {

using memory::SeqId;

// One logits row: either samplers draw a token from it (one per sequence;
// several when a prompt forks into best_of samples), or, for beam search,
// the row's `num_candidates` most likely tokens are reported.
struct RowRequest {
  SeqId seq_id = 0;
  std::vector<SeqId> fork_ids;  // the samplers of a forking prompt; empty otherwise
  bool draws = true;            // false for beam search
  int num_candidates = 0;

  // The samplers that draw from this row. The common case (the row's own
  // sequence) needs no allocation: a plan has one row per sequence.
  std::span<const SeqId> samplers() const {
    if (!fork_ids.empty()) return fork_ids;
    return draws ? std::span<const SeqId>(&seq_id, 1) : std::span<const SeqId>();
  }
};

// A sampler state the executor creates before this step.
struct SamplerSetup {
  SeqId seq_id = 0;
  std::shared_ptr<const model::SamplingParams> params;
  std::optional<std::uint64_t> seed;   // overrides params->seed (n > 1: seed + sample index)
  std::vector<std::int32_t> context;   // the tokens so far (repetition penalty)
  std::int32_t num_prompt_tokens = 0;  // context's prompt part: a constraint replays the rest
};

struct StepPlan {
  std::uint64_t step_id = 0;
  std::vector<memory::BlockCopy> swap_out, swap_in, copy_on_write;
  kernels::BatchMetadata batch;
  std::vector<RowRequest> rows;
  std::vector<SamplerSetup> new_samplers;
  std::vector<SeqId> released_samplers;

  bool has_work() const {
    return batch.num_tokens() > 0 || !swap_out.empty() || !swap_in.empty() || !copy_on_write.empty() ||
           !new_samplers.empty() || !released_samplers.empty();
  }
};

struct SampledToken {
  SeqId seq_id = 0;
  std::int32_t token_id = 0;
  float logprob = 0;
  std::vector<model::TokenChoice> top_logprobs;
};

struct RowResult {
  std::uint32_t first_sample = 0;  // into StepResult::samples
  std::uint32_t num_samples = 0;   // one per RowRequest::samplers()
  std::vector<model::TokenChoice> candidates;  // beam search
};

// The samples of every row sit in one vector: the result is made on the
// executor's thread and freed on another, where an allocation per row cost
// as much as the rest of a step.
struct StepResult {
  std::uint64_t step_id = 0;
  std::vector<RowResult> rows;
  std::vector<SampledToken> samples;

  std::span<const SampledToken> samples_of(const RowResult& row) const {
    return std::span<const SampledToken>(samples).subspan(row.first_sample, row.num_samples);
  }
  // Starts the next row; add_sample() fills it.
  RowResult& add_row() {
    auto& r = rows.emplace_back();
    r.first_sample = static_cast<std::uint32_t>(samples.size());
    return r;
  }
  void add_sample(SampledToken s) {
    samples.push_back(std::move(s));
    ++rows.back().num_samples;
  }
};

}  // namespace pagedserve::engine
