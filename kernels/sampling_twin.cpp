#include "kernels/sampling_twin.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
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

void apply_penalties(std::vector<float>& work, const SampleRow& row, const SampleBatch& batch) {
  for (std::uint32_t p = row.first_penalty; p < row.first_penalty + row.num_penalties; ++p) {
    const PenaltyToken& t = batch.penalties[p];
    if (t.token_id < 0 || t.token_id >= static_cast<std::int32_t>(work.size())) continue;
    work[t.token_id] = sampling::penalize(work[t.token_id], row.repetition_penalty, row.presence_penalty,
                                          row.frequency_penalty, t.output_count);
  }
}

// The Gumbel-max draw among the candidates (keys >= threshold); the first
// of equal scores wins, as the GPU's reduction breaks ties by index.
std::int32_t draw(std::span<const float> work, const SampleRow& row, float max_logit, std::uint64_t threshold) {
  std::int32_t chosen = -1;
  double best = -INFINITY;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    if (sort_key(work[i], id) < threshold) continue;
    const float s = sampling::scaled_logit(work[i], max_logit, row.temperature);
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

std::uint64_t candidate_threshold(std::span<const float> work, const SampleRow& row) {
  const auto vocab = static_cast<std::int64_t>(work.size());
  std::vector<std::uint64_t> keys(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) keys[i] = sort_key(work[i], static_cast<std::int32_t>(i));
  std::sort(keys.begin(), keys.end(), std::greater<>());
  const float max_logit = sampling::key_value(keys[0]);
  const double floor = sampling::min_p_floor(row.min_p);
  std::size_t num = keys.size();
  if (row.top_k > 0 && row.top_k < vocab) num = static_cast<std::size_t>(row.top_k);
  // top_p counts the mass of the top-k set; min_p then cuts what is left.
  std::size_t kept = num;
  if (row.top_p < 1.0f) {
    std::vector<double> mass(num);
    double total = 0;
    for (std::size_t i = 0; i < num; ++i)
      total += mass[i] = std::exp(static_cast<double>(
                   sampling::scaled_logit(sampling::key_value(keys[i]), max_logit, row.temperature)));
    const double target = static_cast<double>(row.top_p) * total;
    double cumulative = 0;
    for (std::size_t i = 0; i < num; ++i) {
      cumulative += mass[i];
      if (cumulative >= target) {
        kept = i + 1;
        break;
      }
    }
  }
  std::size_t above_floor = 0;
  while (above_floor < kept &&
         sampling::scaled_logit(sampling::key_value(keys[above_floor]), max_logit, row.temperature) >= floor)
    ++above_floor;
  kept = std::max<std::size_t>(above_floor, 1);
  return keys[kept - 1];
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
    if (row.draws) apply_penalties(work, row, batch);
    const std::uint64_t best = max_key(work);
    const float max_logit = sampling::key_value(best);
    const double lse = log_sum_exp(work, max_logit);
    if (row.draws) {
      const std::int32_t token =
          row.greedy() ? sampling::key_index(best) : draw(work, row, max_logit, candidate_threshold(work, row));
      out.token_ids[r] = token;
      out.logprobs[r] = static_cast<float>(static_cast<double>(work[token]) - lse);
    }
    top_logprobs(work, row.num_top_logprobs, lse, out.top.data() + row.first_top);
  }
}

}  // namespace pagedserve::kernels
