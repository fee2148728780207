#include "kernels/sampling_twin.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "kernels/sampling_math.hpp"

namespace pagedserve::kernels {

using sampling::sort_key;

namespace {

std::uint64_t max_key(std::span<const float> work) {
  std::uint64_t best = 0;
  for (std::size_t i = 0; i < work.size(); ++i) best = std::max(best, sort_key(work[i], static_cast<std::int32_t>(i)));
  return best;
}

// log(sum(exp(l))) in double, relative to the maximum as the host sampler does.
double log_sum_exp(std::span<const float> work, float max_logit) {
  double sum = 0;
  for (float l : work) sum += std::exp(static_cast<double>(l - max_logit));
  return static_cast<double>(max_logit) + std::log(sum);
}

void apply_mask(std::vector<float>& work, const SampleRow& row, const SampleBatch& batch) {
  const std::uint32_t* words = batch.allowed.data() + row.first_mask_word;
  for (std::size_t t = 0; t < work.size(); ++t)
    if (!((words[t >> 5] >> (t & 31)) & 1)) work[t] = -INFINITY;
}

void apply_penalties(std::vector<float>& work, const SampleRow& row, const SampleBatch& batch) {
  for (std::uint32_t p = row.first_penalty; p < row.first_penalty + row.num_penalties; ++p) {
    const PenaltyToken& t = batch.penalties[p];
    if (t.token_id < 0 || t.token_id >= static_cast<std::int32_t>(work.size())) continue;
    work[t.token_id] = sampling::penalize(work[t.token_id], row.repetition_penalty, row.presence_penalty,
                                          row.frequency_penalty, t.output_count);
  }
}

// The GPU's radix select (kernels/cuda/sampling.cu), one level at a time
// on one thread: the same histograms (summed in another order), the same
// choice of bucket, the same early stop.
std::uint64_t radix_select(std::span<const float> work, const sampling::Candidates& c, bool by_mass, std::uint32_t rank,
                           double top_p) {
  unsigned count[sampling::kRadixBuckets];
  double mass[sampling::kRadixBuckets];
  std::uint64_t prefix = 0;
  double above = 0, target = 0;
  for (int shift = sampling::kRadixTopShift; shift >= 0; shift -= sampling::kRadixBits) {
    std::fill(std::begin(count), std::end(count), 0u);
    std::fill(std::begin(mass), std::end(mass), 0.0);
    const std::uint64_t high = sampling::radix_high_mask(shift);
    for (std::size_t i = 0; i < work.size(); ++i) {
      const std::uint64_t key = sort_key(work[i], static_cast<std::int32_t>(i));
      if ((key & high) != prefix || !c.keeps(key, work[i])) continue;
      const int d = sampling::radix_digit(key, shift);
      ++count[d];
      if (by_mass) mass[d] += c.mass(work[i]);
    }
    if (by_mass && shift == sampling::kRadixTopShift) {
      double total = 0;
      for (int d = sampling::kRadixBuckets - 1; d >= 0; --d) total += mass[d];
      target = top_p * total;
    }
    const sampling::RadixChoice choice = sampling::radix_choose(count, mass, by_mass, rank, above, target);
    rank = choice.rank;
    above = choice.above;
    prefix |= static_cast<std::uint64_t>(choice.bucket) << shift;
    if (count[choice.bucket] <= 1) break;
  }
  return prefix;
}

// The Gumbel-max draw among the candidates; the first of equal scores wins,
// as the GPU's reduction breaks ties by index.
std::int32_t draw(std::span<const float> work, const SampleRow& row, const sampling::Candidates& c) {
  std::int32_t chosen = -1;
  double best = -INFINITY;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    if (!c.keeps(sort_key(work[i], id), work[i])) continue;
    const float s = sampling::scaled_logit(work[i], c.max_logit, row.temperature);
    const double score = sampling::gumbel_score(s, row.seed, row.counter, id);
    if (chosen < 0 || score > best) chosen = id, best = score;
  }
  return chosen;
}

void top_logprobs(std::span<const float> work, int n, double lse, TokenLogprob* out) {
  std::vector<std::uint64_t> keys(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) keys[i] = sort_key(work[i], static_cast<std::int32_t>(i));
  const auto keep = std::min<std::size_t>(static_cast<std::size_t>(std::max(n, 0)), keys.size());
  std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(keep), keys.end(), std::greater<>());
  for (std::size_t i = 0; i < keep; ++i) {
    const std::int32_t id = sampling::key_index(keys[i]);
    out[i] = {id, static_cast<float>(static_cast<double>(work[id]) - lse)};
  }
}

}  // namespace

sampling::Candidates candidates_of(std::span<const float> work, const SampleRow& row) {
  const auto vocab = static_cast<std::int64_t>(work.size());
  sampling::Candidates c{sampling::key_value(max_key(work)), row.temperature, -INFINITY, 0};
  if (row.top_k > 0 && row.top_k < vocab) c.floor_key = radix_select(work, c, false, static_cast<std::uint32_t>(row.top_k), 1.0);
  // The select stops at a prefix that may lie below the top-k floor: keep both.
  if (row.top_p < 1.0f)
    c.floor_key = std::max(c.floor_key, radix_select(work, c, true, 0, static_cast<double>(row.top_p)));
  c.min_p_floor = sampling::min_p_floor(row.min_p);
  return c;
}

void sample_on_host(std::span<const float> logits, std::int64_t vocab, const SampleBatch& batch, SampleOutput& out) {
  out.resize(batch);
  if (vocab <= 0) throw std::invalid_argument("sample: no logits");
  std::vector<float> work;
  for (std::size_t r = 0; r < batch.rows.size(); ++r) {
    const SampleRow& row = batch.rows[r];
    const auto first = static_cast<std::size_t>(row.logits_row) * static_cast<std::size_t>(vocab);
    if (row.logits_row < 0 || first + static_cast<std::size_t>(vocab) > logits.size())
      throw std::out_of_range("sample: logits row out of range");
    work.assign(logits.begin() + static_cast<std::ptrdiff_t>(first),
                logits.begin() + static_cast<std::ptrdiff_t>(first + static_cast<std::size_t>(vocab)));
    if (row.masked) apply_mask(work, row, batch);
    if (row.draws) apply_penalties(work, row, batch);
    const std::uint64_t best = max_key(work);
    const float max_logit = sampling::key_value(best);
    const double lse = log_sum_exp(work, max_logit);
    if (row.draws) {
      const std::int32_t token =
          row.greedy() ? sampling::key_index(best) : draw(work, row, candidates_of(work, row));
      out.token_ids[r] = token;
      out.logprobs[r] = static_cast<float>(static_cast<double>(work[token]) - lse);
    }
    top_logprobs(work, row.num_top_logprobs, lse, out.top.data() + row.first_top);
  }
}

}  // namespace pagedserve::kernels
