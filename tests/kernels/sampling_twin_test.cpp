// The GPU sampler's host twin: its generator against published Philox
// vectors, its filters against a plain sort-and-scan reference, its draws
// against the exact distributions they should follow, its seeds against the
// batch around them, and its greedy tokens and logprobs against the host
// sampler (model/sampler).

#include "kernels/sampling_twin.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "kernels/sampling_math.hpp"
#include "model/sampler.hpp"
#include "test_util.hpp"

using namespace pagedserve::kernels;
namespace sm = pagedserve::kernels::sampling;

namespace {

SampleRow drawing(float temperature, std::uint64_t seed, std::uint64_t counter) {
  SampleRow r;
  r.temperature = temperature;
  r.seed = seed;
  r.counter = counter;
  return r;
}

// The probabilities the filters leave, written as plainly as the host
// sampler does it: sort, top-k, then min-p and top-p (over the top-k mass)
// in one scan.
std::vector<double> expected_distribution(const std::vector<float>& logits, const SampleRow& r) {
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  std::size_t keep = order.size();
  if (r.top_k > 0) keep = std::min<std::size_t>(keep, static_cast<std::size_t>(r.top_k));
  std::vector<double> p(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i) total += p[i] = std::exp((logits[order[i]] - logits[order[0]]) / r.temperature);
  std::size_t cut = keep;
  double cumulative = 0;
  for (std::size_t i = 0; i < keep; ++i) {
    if (p[i] < r.min_p * p[0]) { cut = i; break; }
    cumulative += p[i] / total;
    if (r.top_p < 1 && cumulative >= r.top_p) { cut = i + 1; break; }  // 1: off, not a cut at rounding
  }
  std::vector<double> out(logits.size(), 0.0);
  const double kept = std::accumulate(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(cut), 0.0);
  for (std::size_t i = 0; i < cut; ++i) out[order[i]] = p[i] / kept;
  return out;
}

// Draws `n` tokens from one logits row (counters 0..n-1 of one seed, all in
// one batch) and returns how often each token came.
std::vector<int> histogram(const std::vector<float>& logits, SampleRow row, int n,
                           const std::vector<PenaltyToken>& penalties = {}) {
  SampleBatch batch;
  for (int i = 0; i < n; ++i) {
    row.counter = static_cast<std::uint64_t>(i);
    batch.add(row, penalties);
  }
  SampleOutput out;
  sample_on_host(logits, static_cast<std::int64_t>(logits.size()), batch, out);
  std::vector<int> counts(logits.size(), 0);
  for (auto t : out.token_ids) ++counts.at(static_cast<std::size_t>(t));
  return counts;
}

void check_follows(const std::vector<int>& counts, const std::vector<double>& p, int n) {
  for (std::size_t t = 0; t < p.size(); ++t) {
    INFO("token " << t << " expected p " << p[t] << " drawn " << counts[t] << " of " << n);
    if (p[t] == 0) {
      CHECK(counts[t] == 0);
    } else {
      const double sigma = std::sqrt(p[t] * (1 - p[t]) / n);
      CHECK(std::abs(counts[t] / static_cast<double>(n) - p[t]) <= 5 * sigma);
    }
  }
}

const std::vector<float> kLogits = {2.0f, 1.5f, 1.2f, 1.0f, 0.5f, 0.3f, 0.0f, -0.5f, -1.0f, -3.0f};

}  // namespace

TEST_CASE("Philox4x32-10 gives the Random123 known-answer vectors", "[sampling]") {
  auto check = [](sm::Philox4 ctr, std::uint32_t k0, std::uint32_t k1, sm::Philox4 want) {
    const sm::Philox4 got = sm::philox4x32_10(ctr, k0, k1);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == want.v[i]);
  };
  check({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
  check({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
        {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}});
  check({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
        {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}});
}

TEST_CASE("the uniforms lie strictly inside (0, 1), are uniform, and differ by seed, counter and token", "[sampling]") {
  double sum = 0, sum_sq = 0;
  int below_tenth = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = sm::uniform_open(1234, static_cast<std::uint64_t>(i / 100), i % 100);
    REQUIRE(u > 0.0);
    REQUIRE(u < 1.0);
    sum += u, sum_sq += u * u;
    below_tenth += u < 0.1;
  }
  CHECK(sum / n == Approx(0.5).margin(0.005));
  CHECK(sum_sq / n - (sum / n) * (sum / n) == Approx(1.0 / 12).margin(0.002));
  CHECK(below_tenth / static_cast<double>(n) == Approx(0.1).margin(0.004));
  CHECK(sm::uniform_open(1, 2, 3) == sm::uniform_open(1, 2, 3));
  CHECK(sm::uniform_open(1, 2, 3) != sm::uniform_open(2, 2, 3));
  CHECK(sm::uniform_open(1, 2, 3) != sm::uniform_open(1, 3, 3));
  CHECK(sm::uniform_open(1, 2, 3) != sm::uniform_open(1, 2, 4));
  CHECK(sm::uniform_open(1, 1ull << 32, 3) != sm::uniform_open(1, 0, 3));  // the counter's high word counts
  CHECK(sm::uniform_open(1ull << 32, 0, 3) != sm::uniform_open(0, 0, 3));  // and the seed's
}

TEST_CASE("sort keys order by value descending, then index ascending; -0 is +0", "[sampling]") {
  CHECK(sm::sort_key(1.0f, 5) > sm::sort_key(0.5f, 0));
  CHECK(sm::sort_key(-0.5f, 5) > sm::sort_key(-1.0f, 0));
  CHECK(sm::sort_key(0.0f, 5) > sm::sort_key(-1e-30f, 0));
  CHECK(sm::sort_key(2.0f, 3) > sm::sort_key(2.0f, 4));
  CHECK(sm::sort_key(-0.0f, 3) == sm::sort_key(0.0f, 3));
  CHECK(sm::sort_key(-INFINITY, 0) < sm::sort_key(-3e38f, 9));
  for (float v : {0.0f, 1.5f, -2.25f, 3e38f, -1e-40f}) {
    CHECK(sm::key_value(sm::sort_key(v, 7)) == v);
    CHECK(sm::key_index(sm::sort_key(v, 7)) == 7);
  }
}

TEST_CASE("the radix-select cut equals a sort-and-scan reference for random logits and filters", "[sampling]") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> k_of(0, 40);
  std::uniform_real_distribution<float> unit(0, 1);
  for (int trial = 0; trial < 320; ++trial) {
    // Mostly small rows; some large, where the selects go deeper before one key is left.
    auto logits = pagedserve::testing::random_vector(trial < 300 ? 300 : 40000, static_cast<unsigned>(trial));
    for (auto& l : logits) l *= 6;
    if (trial % 2) for (auto& l : logits) l = std::round(l * 2) / 2;  // many ties: the index decides
    SampleRow r = drawing(0.3f + 2 * unit(rng), 1, 0);
    r.top_k = trial % 3 == 0 ? 0 : k_of(rng);
    r.top_p = trial % 4 == 0 ? 1.0f : 0.05f + 0.95f * unit(rng);
    r.min_p = trial % 5 == 0 ? 0.0f : 0.3f * unit(rng);
    const auto p = expected_distribution(logits, r);
    const sm::Candidates c = candidates_of(logits, r);
    for (std::size_t i = 0; i < logits.size(); ++i) {
      INFO("trial " << trial << " token " << i << " T " << r.temperature << " top_k " << r.top_k << " top_p " << r.top_p
                     << " min_p " << r.min_p << " p " << p[i]);
      CHECK(c.keeps(sm::sort_key(logits[i], static_cast<std::int32_t>(i)), logits[i]) == (p[i] > 0));
    }
  }
}

TEST_CASE("draws follow the exact distribution of each filter", "[sampling]") {
  const int n = 40000;
  struct Case {
    const char* name;
    float temperature;
    int top_k;
    float top_p, min_p;
  };
  for (const Case c : {Case{"T=1", 1.0f, 0, 1.0f, 0.0f}, Case{"T=0.5", 0.5f, 0, 1.0f, 0.0f},
                       Case{"T=2, top_k=3", 2.0f, 3, 1.0f, 0.0f}, Case{"top_p=0.6", 1.0f, 0, 0.6f, 0.0f},
                       Case{"min_p=0.3", 1.0f, 0, 1.0f, 0.3f},
                       Case{"all three", 0.8f, 5, 0.9f, 0.05f}}) {
    INFO(c.name);
    SampleRow r = drawing(c.temperature, 99, 0);
    r.top_k = c.top_k, r.top_p = c.top_p, r.min_p = c.min_p;
    check_follows(histogram(kLogits, r, n), expected_distribution(kLogits, r), n);
  }
}

TEST_CASE("penalties change the distribution as the host sampler's penalties do", "[sampling]") {
  SampleRow r = drawing(1.0f, 3, 0);
  r.repetition_penalty = 1.5f, r.presence_penalty = 0.5f, r.frequency_penalty = 0.3f;
  // Token 0 twice in the output, 3 in the prompt only, 7 once in the output.
  const std::vector<PenaltyToken> penalties = {{0, 2}, {3, 0}, {7, 1}};
  auto penalized = kLogits;
  penalized[0] = 2.0f / 1.5f - (0.5f + 0.3f * 2);
  penalized[3] = 1.0f / 1.5f;
  penalized[7] = -0.5f * 1.5f - (0.5f + 0.3f);
  const int n = 40000;
  check_follows(histogram(kLogits, r, n, penalties), expected_distribution(penalized, r), n);

  // The same penalties through the host sampler give the same penalized logits (greedy, logprob).
  pagedserve::model::SamplingParams p;
  p.temperature = 0, p.repetition_penalty = 1.5f, p.presence_penalty = 0.5f, p.frequency_penalty = 0.3f, p.logprobs = 4;
  pagedserve::model::SamplerState state(p);
  state.output_counts = {{0, 2}, {7, 1}};
  const std::vector<std::int32_t> context = {3, 0, 7, 0};
  const auto want = pagedserve::model::sample(kLogits, p, state, context);
  SampleRow g = drawing(0.0f, 0, 0);
  g.repetition_penalty = 1.5f, g.presence_penalty = 0.5f, g.frequency_penalty = 0.3f, g.num_top_logprobs = 4;
  SampleBatch batch;
  batch.add(g, penalties);
  SampleOutput out;
  sample_on_host(kLogits, 10, batch, out);
  CHECK(out.token_ids[0] == want.token_id);
  CHECK(out.logprobs[0] == Approx(want.logprob).margin(1e-6));
  for (int k = 0; k < 4; ++k) {
    CHECK(out.top[k].token_id == want.top_logprobs[k].token_id);
    CHECK(out.top[k].logprob == Approx(want.top_logprobs[k].logprob).margin(1e-6));
  }
}

TEST_CASE("top-k among equal logits keeps the lowest token ids", "[sampling]") {
  const std::vector<float> flat(10, 0.25f);
  SampleRow r = drawing(1.0f, 8, 0);
  r.top_k = 3;
  const auto counts = histogram(flat, r, 3000);
  for (int t = 0; t < 10; ++t) {
    INFO("token " << t);
    if (t < 3) CHECK(counts[t] > 800);
    else CHECK(counts[t] == 0);
  }
}

TEST_CASE("greedy rows, logprobs and beam candidates equal the host sampler's", "[sampling]") {
  const std::int64_t vocab = 1000;
  const int rows = 6;
  std::vector<float> logits;
  for (int r = 0; r < rows; ++r) {
    auto row = pagedserve::testing::random_vector(vocab, static_cast<unsigned>(100 + r));
    for (auto& l : row) l *= 8;
    logits.insert(logits.end(), row.begin(), row.end());
  }
  logits[2 * vocab + 10] = logits[2 * vocab + 20] = 50.0f;  // a tie: the first wins
  SampleBatch batch;
  for (int r = 0; r < rows; ++r) {
    SampleRow g = drawing(0.0f, 0, 0);
    g.logits_row = r;
    g.num_top_logprobs = r;
    batch.add(g);
  }
  SampleRow beam;
  beam.logits_row = 4, beam.draws = 0, beam.num_top_logprobs = 6;
  batch.add(beam);
  SampleOutput out;
  sample_on_host(logits, vocab, batch, out);
  for (int r = 0; r < rows; ++r) {
    INFO("row " << r);
    const std::span<const float> row(logits.data() + r * vocab, static_cast<std::size_t>(vocab));
    pagedserve::model::SamplingParams p;
    p.temperature = 0, p.logprobs = r;
    pagedserve::model::SamplerState state(p);
    const auto want = pagedserve::model::sample(row, p, state, {});
    CHECK(out.token_ids[r] == want.token_id);
    CHECK(out.logprobs[r] == Approx(want.logprob).margin(1e-5));
    for (int k = 0; k < r; ++k) {
      CHECK(out.top[batch.rows[r].first_top + k].token_id == want.top_logprobs[k].token_id);
      CHECK(out.top[batch.rows[r].first_top + k].logprob == Approx(want.top_logprobs[k].logprob).margin(1e-5));
    }
  }
  CHECK(out.token_ids[2] == 10);
  const auto candidates = pagedserve::model::top_logprobs(std::span<const float>(logits.data() + 4 * vocab, vocab), 6);
  for (int k = 0; k < 6; ++k) {
    CHECK(out.top[batch.rows[6].first_top + k].token_id == candidates[k].token_id);
    CHECK(out.top[batch.rows[6].first_top + k].logprob == Approx(candidates[k].logprob).margin(1e-5));
  }
}

TEST_CASE("a seeded row draws the same whatever shares its batch and wherever it sits", "[sampling]") {
  const std::int64_t vocab = 500;
  std::vector<float> logits;
  for (int r = 0; r < 4; ++r) {
    auto row = pagedserve::testing::random_vector(vocab, static_cast<unsigned>(7 + r));
    for (auto& l : row) l *= 3;
    logits.insert(logits.end(), row.begin(), row.end());
  }
  for (std::uint64_t counter = 0; counter < 50; ++counter) {
    SampleRow mine = drawing(0.9f, 4242, counter);
    mine.logits_row = 1, mine.top_p = 0.95f, mine.top_k = 100;
    SampleBatch alone;
    alone.add(mine);
    SampleOutput a;
    sample_on_host(logits, vocab, alone, a);

    SampleBatch crowd;
    for (int other = 0; other < 5; ++other) {
      SampleRow o = drawing(other % 2 ? 1.3f : 0.0f, 1000 + other, counter * 7 + other);
      o.logits_row = other % 4, o.num_top_logprobs = other, o.min_p = 0.1f;
      crowd.add(o, {{static_cast<std::int32_t>(other), 1}});
      if (other == 3) crowd.add(mine);
    }
    SampleOutput b;
    sample_on_host(logits, vocab, crowd, b);
    CHECK(b.token_ids[4] == a.token_ids[0]);
    CHECK(b.logprobs[4] == a.logprobs[0]);
  }
}

TEST_CASE("different seeds and counters give different draws; the same give the same", "[sampling]") {
  const auto logits = pagedserve::testing::random_vector(200, 3);
  auto stream = [&](std::uint64_t seed) {
    SampleBatch batch;
    for (std::uint64_t c = 0; c < 64; ++c) batch.add(drawing(1.0f, seed, c));
    SampleOutput out;
    sample_on_host(logits, 200, batch, out);
    return out.token_ids;
  };
  const auto a = stream(1), b = stream(2), again = stream(1);
  CHECK(a == again);
  CHECK(a != b);
  CHECK(std::set<std::int32_t>(a.begin(), a.end()).size() > 20);  // the counter moves the stream
}
