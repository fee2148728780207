// Token masks in both samplers: whatever the logits, the filters and the
// seed, a masked row draws only allowed tokens, greedy takes the best
// allowed one, and the logprob is normalized over the allowed tokens.

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "kernels/sampling_twin.hpp"
#include "model/sampler.hpp"
#include "test_util.hpp"

using namespace pagedserve;

namespace {

constexpr int kVocab = 300;

std::vector<std::uint32_t> random_mask(std::mt19937& rng, int num_allowed) {
  std::vector<std::uint32_t> mask((kVocab + 31) / 32, 0);
  for (int i = 0; i < num_allowed; ++i) {
    const int t = std::uniform_int_distribution<int>(0, kVocab - 1)(rng);
    mask[t >> 5] |= 1u << (t & 31);
  }
  return mask;
}

bool allowed(const std::vector<std::uint32_t>& mask, int t) { return (mask[t >> 5] >> (t & 31)) & 1; }

int best_allowed(const std::vector<float>& logits, const std::vector<std::uint32_t>& mask) {
  int best = -1;
  for (int t = 0; t < kVocab; ++t)
    if (allowed(mask, t) && (best < 0 || logits[t] > logits[best])) best = t;
  return best;
}

// Filters that vary with the trial: top-k, top-p and min-p on and off.
struct Filters {
  int top_k;
  float top_p, min_p;
};
Filters filters_for(int trial) { return {trial % 3 == 0 ? 5 : 0, trial % 2 ? 0.9f : 1.0f, trial % 5 == 0 ? 0.2f : 0.0f}; }

}  // namespace

TEST_CASE("sampling masks: the host twin draws only allowed tokens, greedy the best of them") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const auto logits = testing::random_vector(kVocab, static_cast<unsigned>(trial));
    const auto mask = random_mask(rng, 1 + trial % 7);
    const Filters f = filters_for(trial);
    kernels::SampleBatch batch;
    kernels::SampleRow greedy;
    greedy.temperature = 0;
    batch.add(greedy, {}, mask);
    kernels::SampleRow sampled;
    sampled.temperature = 1.5f;
    sampled.top_k = f.top_k;
    sampled.top_p = f.top_p;
    sampled.min_p = f.min_p;
    sampled.seed = static_cast<std::uint64_t>(trial);
    batch.add(sampled, {{7, 2}}, mask);
    kernels::SampleRow free_row;  // no mask: untouched by the others'
    free_row.temperature = 0;
    batch.add(free_row);
    kernels::SampleOutput out;
    kernels::sample_on_host(logits, kVocab, batch, out);
    CHECK(out.token_ids[0] == best_allowed(logits, mask));
    CHECK(allowed(mask, out.token_ids[1]));
    CHECK(out.token_ids[2] == std::max_element(logits.begin(), logits.end()) - logits.begin());
    double total = 0;
    for (int t = 0; t < kVocab; ++t)
      if (allowed(mask, t)) total += std::exp(logits[t] - logits[out.token_ids[0]]);
    CHECK(out.logprobs[0] == Approx(-std::log(total)).margin(1e-5));
  }
}

TEST_CASE("sampling masks: the host sampler draws only allowed tokens, greedy the best of them") {
  std::mt19937 rng(4);
  for (int trial = 0; trial < 200; ++trial) {
    const auto logits = testing::random_vector(kVocab, static_cast<unsigned>(trial));
    const auto mask = random_mask(rng, 1 + trial % 7);
    model::SamplingParams p;
    p.temperature = 0;
    model::SamplerState greedy_state(p);
    CHECK(model::sample(logits, p, greedy_state, {}, mask).token_id == best_allowed(logits, mask));
    p.temperature = 1.5f;
    const Filters f = filters_for(trial);
    p.top_k = f.top_k;
    p.top_p = f.top_p;
    p.min_p = f.min_p;
    p.seed = static_cast<std::uint64_t>(trial);
    model::SamplerState state(p);
    for (int k = 0; k < 5; ++k) CHECK(allowed(mask, model::sample(logits, p, state, {}, mask).token_id));
  }
}
