#pragma once
// Sampling as a backend operation: each SampleRow draws one token from one
// row of a logits tensor that stays in backend memory, and only the token
// ids and the requested logprobs come back. The CUDA backend runs it on the
// GPU; every other backend (and the tests) use the host twin, which computes
// the same thing the same way (kernels/sampling_twin.hpp).
//
// What a row draws, in order:
//   0. a row with an allowed-token mask (constrained decoding) sets every
//      other token's logit to -inf, so no later step can pick it
//   1. penalties: repetition over the listed (context) tokens, then
//      presence + frequency * output_count
//   2. greedy (temperature ~ 0): the first maximum
//   3. otherwise the candidates are a prefix of the row in `sort_key` order
//      (value descending, index ascending): of the top_k best, the shortest
//      prefix holding top_p of their probability mass, less those with
//      p < min_p * p_max (as model/sampler and vLLM filter); a token is
//      drawn among them at the temperature by the Gumbel-max trick
//      with a counter-based generator of (seed, counter, token id), so a
//      seeded request draws the same whatever shares its batch
//   4. logprob of the chosen token and the top logprobs, from the
//      penalized logits at temperature 1
// A row that does not draw (beam search) reports the top logprobs of the raw
// row only.
//
// The structs are plain data: the CUDA backend uploads them as they are.

#include <cstdint>
#include <span>
#include <vector>

namespace pagedserve::kernels {

struct SampleRow {
  std::int32_t logits_row = 0;        // which row of the logits tensor
  std::int32_t draws = 1;             // 0: only the top logprobs of the raw row (beam search)
  float temperature = 0.0f;           // < 1e-5: greedy
  std::int32_t top_k = 0;             // <= 0: off
  float top_p = 1.0f;                 // (0, 1]
  float min_p = 0.0f;                 // [0, 1]
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::uint64_t seed = 0;
  std::uint64_t counter = 0;          // which draw of the seed's stream: the position of the new token
  std::int32_t num_top_logprobs = 0;  // how many alternatives to report
  std::uint32_t first_top = 0;        // into the flat top-logprob output (set by SampleBatch::add)
  std::uint32_t first_penalty = 0;    // into SampleBatch::penalties
  std::uint32_t num_penalties = 0;
  std::uint32_t masked = 0;           // 1: SampleBatch::allowed holds this row's mask
  std::uint32_t first_mask_word = 0;  // into SampleBatch::allowed: bit t of word t / 32 allows token t

  constexpr bool greedy() const { return temperature < 1e-5f; }
};

// A token the penalties act on: every token of the context once (repetition),
// with how often it appears in the output (presence, frequency).
struct PenaltyToken {
  std::int32_t token_id = 0;
  std::int32_t output_count = 0;
};

struct SampleBatch {
  std::vector<SampleRow> rows;
  std::vector<PenaltyToken> penalties;
  std::vector<std::uint32_t> allowed;  // the masked rows' masks, ceil(vocab / 32) words each
  std::uint32_t num_top = 0;  // sum of rows' num_top_logprobs

  void clear() {
    rows.clear();
    penalties.clear();
    allowed.clear();
    num_top = 0;
  }
  // Appends `row` with its penalty tokens and, when not empty, its mask,
  // filling the offsets.
  void add(SampleRow row, const std::vector<PenaltyToken>& row_penalties = {}, std::span<const std::uint32_t> mask = {});
  bool has_masks() const { return !allowed.empty(); }
};

struct TokenLogprob {
  std::int32_t token_id = 0;
  float logprob = 0.0f;
};

// What comes back: one token and logprob per row (unset for rows that do
// not draw) and the rows' top logprobs in one flat vector, row i's at
// [rows[i].first_top, + num_top_logprobs), best first.
struct SampleOutput {
  std::vector<std::int32_t> token_ids;
  std::vector<float> logprobs;
  std::vector<TokenLogprob> top;

  void resize(const SampleBatch& batch) {
    token_ids.assign(batch.rows.size(), 0);
    logprobs.assign(batch.rows.size(), 0.0f);
    top.assign(batch.num_top, {});
  }
};

}  // namespace pagedserve::kernels
