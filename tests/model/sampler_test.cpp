#include "model/sampler.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <set>

using namespace pagedserve::model;

namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 0.5f};

std::map<std::int32_t, int> histogram(const SamplingParams& p, int draws, std::uint64_t seed = 1) {
  SamplingParams q = p;
  q.seed = seed;
  SamplerState state(q);
  std::map<std::int32_t, int> h;
  for (int i = 0; i < draws; ++i) {
    state.output_counts.clear();  // keep the distribution fixed
    ++h[sample(kLogits, q, state, {}).token_id];
  }
  return h;
}

}  // namespace

TEST_CASE("greedy picks the first maximal logit", "[sampler]") {
  SamplingParams p;
  p.temperature = 0;
  SamplerState s(p);
  auto r = sample(kLogits, p, s, {});
  CHECK(r.token_id == 1);
  double lse = 0;
  for (float l : kLogits) lse += std::exp(l);
  CHECK(r.logprob == Approx(3.0 - std::log(lse)).epsilon(1e-5));
}

TEST_CASE("a seed makes sampling reproducible", "[sampler]") {
  SamplingParams p;
  p.seed = 42;
  SamplerState a(p), b(p);
  for (int i = 0; i < 50; ++i) CHECK(sample(kLogits, p, a, {}).token_id == sample(kLogits, p, b, {}).token_id);
}

TEST_CASE("temperature 1 samples in proportion to softmax", "[sampler]") {
  SamplingParams p;
  auto h = histogram(p, 60000);
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  for (int t = 0; t < 6; ++t) CHECK(h[t] / 60000.0 == Approx(std::exp(kLogits[t]) / z).margin(0.01));
}

TEST_CASE("with nothing to cut, a draw walks the tokens in order", "[sampler]") {
  // No top-k, top-p or min-p: the draw is the inverse of the cumulative
  // distribution in token order (no sort of the vocabulary), at any
  // temperature, and a masked token is never drawn.
  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 9;
  SamplerState state(p);
  std::mt19937_64 rng(9);
  const std::vector<std::uint32_t> allowed = {0b111011};  // token 2 masked out
  for (int i = 0; i < 500; ++i) {
    std::vector<double> probs;
    double total = 0;
    for (std::size_t t = 0; t < kLogits.size(); ++t)
      total += probs.emplace_back(t == 2 ? 0.0 : std::exp((kLogits[t] - 3.0f) / 0.7f));
    double r = std::uniform_real_distribution<double>(0.0, total)(rng);
    std::int32_t want = 0;
    while (want < 5 && (r -= probs[static_cast<std::size_t>(want)]) >= 0) ++want;
    state.output_counts.clear();
    const auto got = sample(kLogits, p, state, {}, allowed).token_id;
    REQUIRE(got == want);
    REQUIRE(got != 2);
  }
}

TEST_CASE("a mask leaves out exactly its cleared bits, whole words and a short last one too", "[sampler]") {
  // 100 tokens: words of all, none and some, and a last word of 4 tokens.
  std::vector<float> logits(100);
  for (std::size_t t = 0; t < logits.size(); ++t) logits[t] = static_cast<float>(t % 7);
  const std::vector<std::uint32_t> allowed = {~0u, 0u, 0x80000001u, 0b0101};
  auto is_allowed = [&](std::size_t t) { return (allowed[t / 32] >> (t % 32)) & 1; };
  SamplingParams p;
  p.seed = 3;
  p.temperature = 3.0f;
  SamplerState state(p);
  std::set<std::int32_t> seen;
  for (int i = 0; i < 4000; ++i) seen.insert(sample(logits, p, state, {}, allowed).token_id);
  std::set<std::int32_t> want;
  for (std::size_t t = 0; t < logits.size(); ++t)
    if (is_allowed(t)) want.insert(static_cast<std::int32_t>(t));
  CHECK(seen == want);
}

TEST_CASE("top-k, top-p and min-p restrict the support", "[sampler]") {
  SamplingParams p;
  p.top_k = 2;
  auto h = histogram(p, 3000);
  CHECK(h.size() == 2);
  CHECK(h.count(1));
  CHECK(h.count(3));

  p = {};
  p.top_p = 0.5f;  // each logit-3 token holds 0.29 of the mass: the smallest set past 0.5 is both
  h = histogram(p, 3000);
  CHECK(h.size() == 2);

  p = {};
  p.min_p = 0.3f;  // keeps tokens with p >= 0.3 * p_max: logits 3, 3, 2 (e^-1 = 0.37)
  h = histogram(p, 3000);
  CHECK(std::set<std::int32_t>{1, 2, 3} == std::set<std::int32_t>{h.begin()->first, std::next(h.begin())->first,
                                                                   std::prev(h.end())->first});
  CHECK(h.size() == 3);
}

TEST_CASE("penalties change the logits as defined", "[sampler]") {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;  // token 1 seen: 3 / 2 = 1.5 < token 3's 3
  SamplerState s(p);
  std::vector<std::int32_t> context = {1};
  CHECK(sample(kLogits, p, s, context).token_id == 3);

  p = {};
  p.temperature = 0;
  p.frequency_penalty = 0.6f;  // two earlier 1s: 3 - 1.2 = 1.8 < 3
  SamplerState s2(p);
  s2.output_counts[1] = 2;
  s2.output_counts[3] = 1;  // 3 - 0.6 = 2.4, still the best
  CHECK(sample(kLogits, p, s2, {}).token_id == 3);

  p = {};
  p.temperature = 0;
  p.presence_penalty = 1.5f;  // 1 and 3 present: 1.5 each, token 2 (2.0) wins
  SamplerState s3(p);
  s3.output_counts[1] = 5;
  s3.output_counts[3] = 1;
  CHECK(sample(kLogits, p, s3, {}).token_id == 2);
}

TEST_CASE("logprobs list the best alternatives, normalized", "[sampler]") {
  SamplingParams p;
  p.temperature = 0;
  p.logprobs = 3;
  SamplerState s(p);
  auto r = sample(kLogits, p, s, {});
  REQUIRE(r.top_logprobs.size() == 3);
  CHECK(r.top_logprobs[0].token_id == 1);
  CHECK(r.top_logprobs[1].token_id == 3);
  CHECK(r.top_logprobs[2].token_id == 2);
  double total = 0;
  for (const auto& c : top_logprobs(kLogits, 6)) total += std::exp(c.logprob);
  CHECK(total == Approx(1.0));
}

TEST_CASE("invalid parameters name themselves", "[sampler]") {
  auto param_of = [](SamplingParams p) {
    try {
      p.validate();
    } catch (const InvalidParam& e) {
      return e.param;
    }
    return std::string();
  };
  SamplingParams p;
  p.temperature = -1;
  CHECK(param_of(p) == "temperature");
  p = {};
  p.top_p = 0;
  CHECK(param_of(p) == "top_p");
  p = {};
  p.top_k = -2;
  CHECK(param_of(p) == "top_k");
  p = {};
  p.logprobs = 21;
  CHECK(param_of(p) == "logprobs");
  p = {};
  p.temperature = std::nanf("");
  CHECK(param_of(p) == "temperature");
  p = {};
  p.stop = {""};
  CHECK(param_of(p) == "stop");
  CHECK(param_of({}).empty());
}
