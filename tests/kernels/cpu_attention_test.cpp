// PagedAttention through scattered blocks equals plain attention over
// contiguous K/V, for random shapes, GQA ratios, block sizes and batches
// mixing prefill chunks (with cached prefixes) and decode tokens.

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kernels/cpu/cpu_ops.hpp"

using namespace pagedserve::kernels;
using namespace pagedserve::kernels::cpu;

namespace {

struct SeqCase {
  int context = 0;  // tokens in the cache after this step
  int new_tokens = 0;
  std::vector<float> k, v;  // contiguous [context, kv_heads * hs]
};

// Softmax(q k^T * scale) v over keys 0..pos, computed in double.
void reference_attention(const float* q, const SeqCase& s, int pos, int heads, int kv_heads, int hs, float scale,
                         float* out) {
  const int group = heads / kv_heads;
  for (int h = 0; h < heads; ++h) {
    const int kvh = h / group;
    std::vector<double> w(pos + 1);
    double mx = -1e300;
    for (int t = 0; t <= pos; ++t) {
      double dot = 0;
      for (int d = 0; d < hs; ++d) dot += q[h * hs + d] * s.k[(t * kv_heads + kvh) * hs + d];
      w[t] = dot * scale;
      mx = std::max(mx, w[t]);
    }
    double sum = 0;
    for (auto& x : w) sum += x = std::exp(x - mx);
    for (int d = 0; d < hs; ++d) {
      double acc = 0;
      for (int t = 0; t <= pos; ++t) acc += w[t] / sum * s.v[(t * kv_heads + kvh) * hs + d];
      out[h * hs + d] = static_cast<float>(acc);
    }
  }
}

void check_case(std::mt19937& rng, int heads, int kv_heads, int hs, int block_size, int num_seqs) {
  std::uniform_real_distribution<float> u(-1, 1);
  KvCacheSpec spec;
  spec.num_layers = 2;
  spec.num_kv_heads = kv_heads;
  spec.block_size = block_size;
  spec.head_size = hs;
  const int layer = 1;
  std::vector<SeqCase> seqs(num_seqs);
  int blocks_needed = 0;
  for (auto& s : seqs) {
    s.context = 1 + static_cast<int>(rng() % 70);
    s.new_tokens = rng() % 2 ? 1 : 1 + static_cast<int>(rng() % s.context);  // decode or prefill chunk
    for (int i = 0; i < s.context * kv_heads * hs; ++i) {
      s.k.push_back(u(rng));
      s.v.push_back(u(rng));
    }
    blocks_needed += (s.context + block_size - 1) / block_size;
  }
  // Scatter each sequence's blocks over a shuffled pool.
  spec.num_blocks = blocks_needed + 5;
  std::vector<float> pool(spec.elems_per_block() * spec.num_blocks, 0.0f);
  std::vector<std::int32_t> free_ids(spec.num_blocks);
  std::iota(free_ids.begin(), free_ids.end(), 0);
  std::shuffle(free_ids.begin(), free_ids.end(), rng);
  BatchMetadata meta;
  meta.query_start.push_back(0);
  for (const auto& s : seqs) meta.max_blocks_per_seq = std::max(meta.max_blocks_per_seq, (s.context + block_size - 1) / block_size);
  std::vector<float> q;
  std::size_t next_free = 0;
  const int row = kv_heads * hs;
  for (const auto& s : seqs) {
    std::vector<std::int32_t> table(meta.max_blocks_per_seq, 0);
    for (int b = 0; b < (s.context + block_size - 1) / block_size; ++b) table[b] = free_ids[next_free++];
    for (int t = 0; t < s.context; ++t)
      write_kv_token(&s.k[t * row], &s.v[t * row], spec, pool.data(), layer,
                     static_cast<std::int64_t>(table[t / block_size]) * block_size + t % block_size);
    for (int i = 0; i < s.new_tokens; ++i) {
      meta.token_ids.push_back(0);
      meta.positions.push_back(s.context - s.new_tokens + i);
      meta.slot_mapping.push_back(-1);
      for (int j = 0; j < heads * hs; ++j) q.push_back(u(rng));
    }
    meta.query_start.push_back(meta.num_tokens());
    meta.context_lens.push_back(s.context);
    meta.block_tables.insert(meta.block_tables.end(), table.begin(), table.end());
  }
  REQUIRE(meta.validate(block_size, spec.num_blocks).empty());
  AttentionParams p{heads, kv_heads, hs, 1.0f / std::sqrt(static_cast<float>(hs))};
  std::vector<float> out(q.size()), expect(q.size());
  paged_attention(q.data(), spec, pool.data(), layer, meta, p, out.data());
  for (int s = 0; s < num_seqs; ++s)
    for (int i = 0; i < seqs[s].new_tokens; ++i) {
      const int t = meta.query_start[s] + i;
      reference_attention(&q[t * heads * hs], seqs[s], seqs[s].context - seqs[s].new_tokens + i, heads, kv_heads, hs,
                          p.scale, &expect[t * heads * hs]);
    }
  for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == Approx(expect[i]).epsilon(1e-5).margin(1e-6));
}

}  // namespace

TEST_CASE("paged attention equals contiguous attention", "[attention]") {
  std::mt19937 rng(7);
  for (int group : {1, 2, 4, 8})
    for (int block_size : {1, 8, 16, 32})
      for (int hs : {8, 64}) {
        INFO("group " << group << " block size " << block_size << " head size " << hs);
        check_case(rng, 2 * group, 2, hs, block_size, 5);
      }
}

TEST_CASE("paged attention handles single-token contexts and one-block tables", "[attention]") {
  std::mt19937 rng(11);
  for (int i = 0; i < 20; ++i) check_case(rng, 4, 4, 16, 16, 1);
}
