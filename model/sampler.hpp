#pragma once
// Choosing the next token from logits: greedy, temperature, top-k, top-p,
// min-p, penalties, per-request seeds, logprobs. Each sequence carries its
// own SamplerState, so a seeded request gives the same tokens whatever else
// shares its batch.

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/constraint.hpp"

namespace pagedserve::model {

// A sampling parameter out of range; `param` names it (OpenAI style).
struct InvalidParam : std::invalid_argument {
  InvalidParam(std::string param_name, const std::string& message)
      : std::invalid_argument(message), param(std::move(param_name)) {}
  std::string param;
};

struct SamplingParams {
  float temperature = 1.0f;          // 0: greedy
  int top_k = -1;                    // -1 or 0: off
  float top_p = 1.0f;                // (0, 1]
  float min_p = 0.0f;                // [0, 1]
  std::optional<std::uint64_t> seed;
  float repetition_penalty = 1.0f;   // > 0; over prompt and output tokens
  float presence_penalty = 0.0f;     // [-2, 2]; over output tokens
  float frequency_penalty = 0.0f;    // [-2, 2]; over output tokens
  std::vector<std::int32_t> stop_token_ids;
  std::vector<std::string> stop;     // stop strings (not included in the output)
  int max_tokens = 16;
  int logprobs = 0;                  // how many top alternatives to report (0..20)
  bool ignore_eos = false;
  grammar::Constraint constraint;   // structured output: what the text must match (empty: anything)

  bool greedy() const { return temperature < 1e-5f; }
  // Throws InvalidParam naming the first bad field.
  void validate() const;
};

struct SamplerState {
  std::mt19937_64 rng;
  std::unordered_map<std::int32_t, int> output_counts;  // for presence / frequency penalties
  // Seeded from params.seed, or from a fresh random seed.
  explicit SamplerState(const SamplingParams& params);
  void record(std::int32_t token) { ++output_counts[token]; }
};

struct TokenChoice {
  std::int32_t token_id = 0;
  float logprob = 0;
};

struct SampleResult {
  std::int32_t token_id = 0;
  float logprob = 0;                       // of the chosen token, after penalties
  std::vector<TokenChoice> top_logprobs;   // params.logprobs best, descending
};

// `context` is the sequence so far (prompt then output) for the repetition
// penalty; `state` holds the generator and the output token counts.
// `allowed`, when not empty, is a constrained request's token mask (bit t of
// word t / 32): every other token is out before anything else is applied.
SampleResult sample(std::span<const float> logits, const SamplingParams& params, SamplerState& state,
                    std::span<const std::int32_t> context, std::span<const std::uint32_t> allowed = {});

// The `k` most likely tokens with their log-probabilities (descending), as
// beam search extends a beam.
std::vector<TokenChoice> top_logprobs(std::span<const float> logits, int k);

}  // namespace pagedserve::model
