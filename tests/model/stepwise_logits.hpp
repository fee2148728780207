#pragma once
// Runs one sequence through a model the way the engine would and keeps the
// logits of every position, for comparisons with a reference.

#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "model/llama.hpp"

namespace pagedserve::testing {

inline std::vector<std::int32_t> random_prompt(int n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::int32_t> p(n);
  for (auto& t : p) t = static_cast<std::int32_t>(rng() % vocab);
  return p;
}

// The logits of every position of `tokens`, as pagedserve computes them: a
// prefill chunk of `chunk` tokens, then one token a step, K/V in scattered
// blocks of `block_size`.
inline std::vector<std::vector<float>> stepwise_logits(model::LlamaModel& m, const std::vector<std::int32_t>& tokens,
                                                      int chunk, int block_size) {
  const int n = static_cast<int>(tokens.size());
  const int num_blocks = (n + block_size - 1) / block_size;
  auto cache = m.backend().allocate_kv_cache(m.kv_spec(num_blocks, block_size, m.backend().activation_dtype()));
  std::vector<std::int32_t> table(num_blocks);
  std::iota(table.rbegin(), table.rend(), 0);
  std::vector<std::vector<float>> out;
  for (int start = 0; start < n;) {
    const int end = std::min(n, start == 0 ? chunk : start + 1);
    kernels::BatchMetadata meta;
    for (int p = start; p < end; ++p) {
      meta.token_ids.push_back(tokens[p]);
      meta.positions.push_back(p);
      meta.slot_mapping.push_back(static_cast<std::int64_t>(table[p / block_size]) * block_size + p % block_size);
      meta.logits_rows.push_back(p - start);
    }
    meta.query_start = {0, end - start};
    meta.context_lens = {end};
    meta.block_tables = table;
    meta.max_blocks_per_seq = num_blocks;
    if (auto err = meta.validate(block_size, num_blocks); !err.empty()) throw std::logic_error(err);
    std::vector<float> logits;
    m.forward(meta, cache, logits);
    const int vocab = m.config().vocab_size;
    for (int r = 0; r < end - start; ++r) out.emplace_back(logits.begin() + r * vocab, logits.begin() + (r + 1) * vocab);
    start = end;
  }
  return out;
}

}  // namespace pagedserve::testing
