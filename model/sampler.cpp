#include "model/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace pagedserve::model {

void SamplingParams::validate() const {
  auto bad = [](const char* name, const std::string& why) { throw InvalidParam(name, std::string(name) + " " + why); };
  if (!(temperature >= 0.0f && temperature <= 100.0f)) bad("temperature", "must be in [0, 100]");
  if (top_k < -1) bad("top_k", "must be -1 (off), 0 (off) or positive");
  if (!(top_p > 0.0f && top_p <= 1.0f)) bad("top_p", "must be in (0, 1]");
  if (!(min_p >= 0.0f && min_p <= 1.0f)) bad("min_p", "must be in [0, 1]");
  if (!(repetition_penalty > 0.0f && repetition_penalty <= 10.0f)) bad("repetition_penalty", "must be in (0, 10]");
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) bad("presence_penalty", "must be in [-2, 2]");
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) bad("frequency_penalty", "must be in [-2, 2]");
  if (max_tokens < 0) bad("max_tokens", "must not be negative");
  if (logprobs < 0 || logprobs > 20) bad("logprobs", "must be in [0, 20]");
  for (const auto& s : stop)
    if (s.empty()) bad("stop", "strings must not be empty");
  if (!constraint.empty()) {
    try {
      grammar::compile(constraint);  // cached: the server compiled it already when it parsed the request
    } catch (const grammar::GrammarError& e) {
      const bool json = constraint.kind == "json_schema" || constraint.kind == "json_object";
      throw InvalidParam(json ? "response_format" : "guided_" + constraint.kind, e.what());
    }
  }
}

SamplerState::SamplerState(const SamplingParams& params)
    : rng(params.seed ? *params.seed : std::random_device{}()) {}

namespace {

void apply_penalties(std::vector<float>& logits, const SamplingParams& p, const SamplerState& state,
                     std::span<const std::int32_t> context) {
  const auto vocab = static_cast<std::int32_t>(logits.size());
  if (p.repetition_penalty != 1.0f) {
    std::unordered_set<std::int32_t> seen(context.begin(), context.end());
    for (auto t : seen) {
      if (t < 0 || t >= vocab) continue;
      float& l = logits[t];
      l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
    }
  }
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)
    for (const auto& [t, count] : state.output_counts)
      if (t >= 0 && t < vocab) logits[t] -= p.presence_penalty + p.frequency_penalty * static_cast<float>(count);
}

// The loops below skip the exp of a masked-out token (-inf, whose exp is
// 0): a constrained step masks out most of the vocabulary, and those exps
// were most of its sampling time.

// log-softmax normalizer: log(sum(exp(l - max))) + max.
float log_sum_exp(const std::vector<float>& logits) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits)
    if (l != -INFINITY) sum += std::exp(static_cast<double>(l - mx));
  return mx + static_cast<float>(std::log(sum));
}

std::int32_t argmax(const std::vector<float>& v) {
  return static_cast<std::int32_t>(std::max_element(v.begin(), v.end()) - v.begin());  // first maximum
}

// -inf for every token `allowed` leaves out, a 32-token word at a time:
// in a constrained step most words allow all of theirs or none.
void mask_out(std::vector<float>& work, std::span<const std::uint32_t> allowed) {
  for (std::size_t first = 0, w = 0; first < work.size(); first += 32, ++w) {
    const std::uint32_t bits = allowed[w];
    if (bits == ~0u) continue;
    const std::size_t end = std::min(work.size(), first + 32);
    if (bits == 0) {
      std::fill(work.begin() + static_cast<std::ptrdiff_t>(first), work.begin() + static_cast<std::ptrdiff_t>(end), -INFINITY);
      continue;
    }
    for (std::size_t t = first; t < end; ++t)
      if (!((bits >> (t - first)) & 1)) work[t] = -INFINITY;
  }
}

// Whether top-k, top-p or min-p can cut the distribution: only then does a
// draw need the candidates in order.
bool cuts(const SamplingParams& p, std::size_t vocab) {
  return (p.top_k > 0 && static_cast<std::size_t>(p.top_k) < vocab) || p.top_p < 1.0f || p.min_p > 0.0f;
}

// Samples from the whole temperature-scaled distribution in one pass in
// token order, as llama2.c does without top-p: ordering 32,000 candidates
// first cost more than a batch's forward pass on the CPU. Masked-out
// tokens (-inf) have no mass and are never drawn.
std::int32_t sample_all(const std::vector<float>& logits, float temperature, std::mt19937_64& rng) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> probs(logits.size());
  double total = 0;
  for (std::size_t i = 0; i < logits.size(); ++i)
    total += probs[i] = logits[i] == -INFINITY ? 0.0f : std::exp((logits[i] - mx) / temperature);
  double r = std::uniform_real_distribution<double>(0.0, total)(rng);
  std::size_t last = 0;  // the last token with mass: where rounding may leave r
  for (std::size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    last = i;
    r -= probs[i];
    if (r < 0) return static_cast<std::int32_t>(i);
  }
  return static_cast<std::int32_t>(last);
}

// Samples from the temperature-scaled distribution restricted by top-k,
// top-p and min-p.
std::int32_t sample_filtered(const std::vector<float>& logits, const SamplingParams& p, std::mt19937_64& rng) {
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::size_t keep = order.size();
  if (p.top_k > 0) keep = std::min<std::size_t>(keep, static_cast<std::size_t>(p.top_k));
  auto by_logit = [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), by_logit);
  // Masked-out tokens (-inf) sort last and are never candidates.
  while (keep > 1 && logits[order[keep - 1]] == -INFINITY) --keep;
  order.resize(keep);
  const float mx = logits[order[0]];
  std::vector<double> probs(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i) total += probs[i] = std::exp((logits[order[i]] - mx) / p.temperature);
  std::size_t cut = keep;
  double cumulative = 0;
  for (std::size_t i = 0; i < keep; ++i) {
    if (probs[i] / total < p.min_p * (probs[0] / total)) { cut = i; break; }
    cumulative += probs[i] / total;
    if (cumulative >= p.top_p) { cut = i + 1; break; }
  }
  cut = std::max<std::size_t>(cut, 1);
  double kept = std::accumulate(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(cut), 0.0);
  double r = std::uniform_real_distribution<double>(0.0, kept)(rng);
  for (std::size_t i = 0; i < cut; ++i) {
    r -= probs[i];
    if (r < 0) return order[i];
  }
  return order[cut - 1];
}

}  // namespace

std::vector<TokenChoice> top_logprobs(std::span<const float> logits, int k) {
  std::vector<float> v(logits.begin(), logits.end());
  const float lse = log_sum_exp(v);
  std::vector<std::int32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  const auto keep = std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](std::int32_t a, std::int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::vector<TokenChoice> out;
  for (std::size_t i = 0; i < keep; ++i) out.push_back({order[i], v[order[i]] - lse});
  return out;
}

SampleResult sample(std::span<const float> logits, const SamplingParams& params, SamplerState& state,
                    std::span<const std::int32_t> context, std::span<const std::uint32_t> allowed) {
  if (logits.empty()) throw std::invalid_argument("sample: no logits");
  std::vector<float> work(logits.begin(), logits.end());
  if (!allowed.empty()) mask_out(work, allowed);
  apply_penalties(work, params, state, context);
  SampleResult r;
  r.token_id = params.greedy()                ? argmax(work)
               : cuts(params, work.size()) ? sample_filtered(work, params, state.rng)
                                           : sample_all(work, params.temperature, state.rng);
  r.logprob = work[r.token_id] - log_sum_exp(work);
  if (params.logprobs > 0) r.top_logprobs = top_logprobs(work, params.logprobs);
  state.record(r.token_id);
  return r;
}

}  // namespace pagedserve::model
