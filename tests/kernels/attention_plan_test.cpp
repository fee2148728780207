// The CUDA decode kernel's index math (kernels/attention_plan.hpp), run on
// the host: split-K partitions of keys walked through a scattered block
// table, GQA head mapping and the partial-result combination must give what
// the CPU backend's PagedAttention gives, for random shapes and tables.

#include "kernels/attention_plan.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kernels/cpu/cpu_backend.hpp"
#include "test_util.hpp"

using namespace pagedserve::kernels;
namespace plan = pagedserve::kernels::attention;
using pagedserve::testing::random_vector;

namespace {

// What one partition of the kernel leaves: max score, sum of exponentials
// and the unnormalised output, for one query head.
struct Partial {
  float max = -INFINITY, sum = 0;
  std::vector<float> out;
};

Partial run_partition(const float* q, const std::vector<float>& pool, const plan::PoolGeometry& k,
                      const plan::PoolGeometry& v, const std::int32_t* table, int kv_head, plan::KeyRange keys,
                      float scale) {
  Partial p;
  p.out.assign(k.head_size, 0.0f);
  if (keys.first >= keys.last) return p;
  std::vector<float> scores;
  for (int t = keys.first; t < keys.last; ++t) {
    const float* row = pool.data() + plan::key_offset(k, table, t, kv_head);
    float dot = 0;
    for (int d = 0; d < k.head_size; ++d) dot += q[d] * scale * row[d];
    scores.push_back(dot);
    p.max = std::max(p.max, dot);
  }
  for (int t = keys.first; t < keys.last; ++t) {
    const float e = std::exp(scores[t - keys.first] - p.max);
    p.sum += e;
    const float* row = pool.data() + plan::key_offset(v, table, t, kv_head);
    for (int d = 0; d < k.head_size; ++d) p.out[d] += e * row[d];
  }
  return p;
}

// The reduce kernel's combination: each partial rescaled to the global max.
std::vector<float> combine(const std::vector<Partial>& parts) {
  float gmax = -INFINITY, total = 0;
  for (const auto& p : parts) gmax = std::max(gmax, p.max);
  std::vector<float> out(parts.front().out.size(), 0.0f);
  for (const auto& p : parts) {
    if (p.sum == 0) continue;
    const float w = std::exp(p.max - gmax);
    total += p.sum * w;
    for (std::size_t d = 0; d < out.size(); ++d) out[d] += p.out[d] * w;
  }
  for (auto& x : out) x /= total;
  return out;
}

}  // namespace

TEST_CASE("the decode kernel's split-K plan matches the CPU PagedAttention", "[kernels][attention]") {
  std::mt19937 rng(5);
  auto cpu = make_cpu_backend();
  for (int trial = 0; trial < 60; ++trial) {
    const int kv_heads = 1 + static_cast<int>(rng() % 3), group = 1 + static_cast<int>(rng() % 8);
    const int heads = kv_heads * group, hs = 8 * (1 + static_cast<int>(rng() % 16));
    const int bs = std::vector<int>{1, 8, 16, 32, 12}[rng() % 5];
    const int partition = std::vector<int>{16, 64, 100, 512}[rng() % 4];
    const int num_seqs = 1 + static_cast<int>(rng() % 4), layers = 2, layer = static_cast<int>(rng() % layers);
    std::vector<int> contexts(num_seqs);
    int total_blocks = 0, max_blocks = 0;
    for (auto& c : contexts) {
      c = 1 + static_cast<int>(rng() % 700);
      total_blocks += (c + bs - 1) / bs;
      max_blocks = std::max(max_blocks, (c + bs - 1) / bs);
    }
    KvCacheSpec spec{total_blocks + 2, layers, kv_heads, bs, hs, DType::f32};
    std::vector<std::int32_t> ids(spec.num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    BatchMetadata meta;
    meta.max_blocks_per_seq = max_blocks;
    meta.query_start.push_back(0);
    std::size_t next = 0;
    for (int s = 0; s < num_seqs; ++s) {  // one decode token per sequence
      std::vector<std::int32_t> table(max_blocks, 0);
      for (int b = 0; b < (contexts[s] + bs - 1) / bs; ++b) table[b] = ids[next++];
      meta.token_ids.push_back(0);
      meta.positions.push_back(contexts[s] - 1);
      meta.slot_mapping.push_back(-1);
      meta.query_start.push_back(s + 1);
      meta.context_lens.push_back(contexts[s]);
      meta.block_tables.insert(meta.block_tables.end(), table.begin(), table.end());
    }
    auto pool_values = random_vector(spec.elems_per_block() * spec.num_blocks, static_cast<unsigned>(rng()));
    auto q_values = random_vector(static_cast<std::size_t>(num_seqs) * heads * hs, static_cast<unsigned>(rng()));
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));

    // The CPU backend's answer.
    KvCache cache = cpu->allocate_kv_cache(spec);
    std::copy(pool_values.begin(), pool_values.end(), static_cast<float*>(cache.data()));
    auto q = cpu->upload_weight({q_values.data(), DType::f32, num_seqs, static_cast<std::int64_t>(heads) * hs, {}});
    auto out = cpu->allocate_tensor(DType::f32, num_seqs, static_cast<std::int64_t>(heads) * hs);
    auto step = cpu->prepare(meta);
    cpu->paged_attention(q.view, cache, layer, *step, {heads, kv_heads, hs, scale}, out.view);
    const auto* want = static_cast<const float*>(out.view.data);

    // The kernel's decomposition, through the plan's functions alone.
    plan::PoolGeometry k = plan::pool_geometry(spec, layer, 0), v = plan::pool_geometry(spec, layer, 1);
    REQUIRE((k.block_shift >= 0) == (bs == 1 || bs == 8 || bs == 16 || bs == 32));
    if (trial % 2) k.block_shift = v.block_shift = -1;  // the division path too
    const int parts = plan::num_partitions(meta.max_context_len(), partition);
    for (int s = 0; s < num_seqs; ++s)
      for (int h = 0; h < heads; ++h) {
        std::vector<Partial> partials;
        for (int part = 0; part < parts; ++part)
          partials.push_back(run_partition(q_values.data() + (s * heads + h) * hs, pool_values, k, v,
                                           meta.block_tables.data() + s * max_blocks,
                                           plan::kv_head_of(h, heads, kv_heads),
                                           plan::partition_keys(meta.positions[s], part, partition), scale));
        const auto got = combine(partials);
        for (int d = 0; d < hs; ++d) {
          INFO("trial " << trial << " seq " << s << " head " << h << " partition " << partition);
          REQUIRE(got[d] == Approx(want[(s * heads + h) * hs + d]).margin(1e-5));
        }
      }
  }
}

TEST_CASE("the fast decode kernel takes the shapes its lanes can cover", "[kernels][attention]") {
  CHECK(plan::fast_decode_supported(128, 2, 1));   // fp16: 16 lanes a row
  CHECK(plan::fast_decode_supported(128, 4, 8));   // fp32: 32 lanes a row
  CHECK(plan::fast_decode_supported(256, 2, 4));   // fp16: 32 lanes
  CHECK(plan::fast_decode_supported(64, 2, 7));    // Qwen2.5-7B's group of 7
  CHECK_FALSE(plan::fast_decode_supported(256, 4, 1));  // fp32: 64 lanes, more than a warp
  CHECK_FALSE(plan::fast_decode_supported(80, 2, 1));   // 10 lanes do not divide a warp
  CHECK_FALSE(plan::fast_decode_supported(128, 2, 16)); // accumulators for 16 heads: too many registers
  CHECK_FALSE(plan::fast_decode_supported(8, 2, 1));    // one lane a row: too few to fill a warp's loads
  CHECK(plan::num_partitions(1300, 512) == 3);
  CHECK(plan::partition_keys(1299, 2, 512).first == 1024);
  CHECK(plan::partition_keys(1299, 2, 512).last == 1300);
  CHECK(plan::partition_keys(100, 1, 64).last == 101);
  CHECK(plan::partition_keys(10, 1, 64).first >= plan::partition_keys(10, 1, 64).last);
}

TEST_CASE("prefill tiles cover every token of a tiled sequence once and nothing else", "[kernels][attention]") {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::int32_t> query_start{0};
    const int seqs = 1 + static_cast<int>(rng() % 8);
    for (int s = 0; s < seqs; ++s) query_start.push_back(query_start.back() + static_cast<int>(rng() % 3 == 0 ? 1 : rng() % 300));
    std::vector<int> covered(query_start.back(), 0);
    for (const auto& t : plan::prefill_tiles(query_start)) {
      REQUIRE(t.rows >= 1);
      REQUIRE(t.rows <= plan::kTileRows);
      REQUIRE(t.first_token >= query_start[t.seq]);
      REQUIRE(t.first_token + t.rows <= query_start[t.seq + 1]);
      for (int r = 0; r < t.rows; ++r) ++covered[t.first_token + r];
    }
    for (int s = 0; s < seqs; ++s)
      for (int i = query_start[s]; i < query_start[s + 1]; ++i)
        REQUIRE(covered[i] == (plan::tiled(query_start[s + 1] - query_start[s]) ? 1 : 0));
  }
}

TEST_CASE("few long queries are split finer so the GPU fills; many are left alone", "[kernels][attention]") {
  // One sequence, 8 KV heads, 4k keys: 64 blocks at 512 keys; about 528 wanted.
  const int p = plan::split_partition(1, 8, 4096, 512, 528);
  CHECK(p == plan::kMinPartition);
  CHECK(8 * plan::num_partitions(4096, p) >= 512);
  // 256 sequences already give 16,384 blocks.
  CHECK(plan::split_partition(256, 8, 4096, 512, 528) == 512);
  // Never below the minimum, never above what was configured, a multiple of 16.
  for (int tokens : {1, 2, 5, 33})
    for (int kv : {1, 4, 8, 32})
      for (int ctx : {1, 100, 513, 4096, 32768}) {
        const int q = plan::split_partition(tokens, kv, ctx, 512, 528);
        CHECK(q >= plan::kMinPartition);
        CHECK(q <= 512);
        CHECK(q % 16 == 0);
      }
  CHECK(plan::split_partition(1, 1, 4096, 64, 528) == 64);  // a configured 64 stays
}
