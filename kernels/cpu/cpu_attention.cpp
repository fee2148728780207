// PagedAttention on the CPU: each new token of each sequence attends to the
// keys at positions 0..its own, read through the sequence's block table
// straight from the scattered physical blocks (no gathered copy).

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_ops.hpp"

namespace pagedserve::kernels::cpu {

namespace {

struct QueryRef {
  int seq;
  int token;  // row in the batch
  int pos;    // its position: keys 0..pos are visible
};

// Below this many multiply-adds a layer's attention runs on the calling
// thread: opening a parallel region costs a fork and a barrier, and on a
// busy machine a barrier waits for a descheduled thread's next time slice
// (milliseconds), which made two short streams of stories260K 40x slower
// at load 9 on two cores. 256K multiply-adds are about 50-100 us on one core.
constexpr std::int64_t kMinWorkForThreads = 256 * 1024;

// The queries of a step, into a buffer kept between calls (no allocation
// once warm); returns the multiply-adds they cost (scores and values).
std::int64_t list_queries(const BatchMetadata& meta, int num_heads, int head_size, std::vector<QueryRef>& out) {
  out.clear();
  std::int64_t keys = 0;
  for (int s = 0; s < meta.num_seqs(); ++s) {
    const int q = meta.query_start[s + 1] - meta.query_start[s];
    for (int i = 0; i < q; ++i) {
      out.push_back({s, meta.query_start[s] + i, meta.context_lens[s] - q + i});
      keys += meta.context_lens[s] - q + i + 1;
    }
  }
  return 2 * keys * num_heads * head_size;
}

// One query head over one sequence's keys, as llama2.c computes it:
// scores, max-subtracted softmax, then the weighted sum of values.
void attend_head(const float* q, const std::int32_t* table, int pos, int kv_head, const KvCacheSpec& spec,
                 const float* pool, int layer, float scale, std::vector<float>& scores, float* out) {
  const int hs = spec.head_size, bs = spec.block_size;
  if (scores.size() < static_cast<std::size_t>(pos) + 1) scores.resize(static_cast<std::size_t>(pos) + 1);
  float max_score = -INFINITY;
  for (int t = 0; t <= pos; ++t) {
    const float* k = pool + spec.offset(table[t / bs], layer, 0) + (static_cast<std::size_t>(kv_head) * bs + t % bs) * hs;
    float dot = 0.0f;
    for (int d = 0; d < hs; ++d) dot += q[d] * k[d];
    scores[t] = dot * scale;
    max_score = std::max(max_score, scores[t]);
  }
  float sum = 0.0f;
  for (int t = 0; t <= pos; ++t) {
    scores[t] = std::exp(scores[t] - max_score);
    sum += scores[t];
  }
  for (int d = 0; d < hs; ++d) out[d] = 0.0f;
  for (int t = 0; t <= pos; ++t) {
    const float* v = pool + spec.offset(table[t / bs], layer, 1) + (static_cast<std::size_t>(kv_head) * bs + t % bs) * hs;
    const float w = scores[t] / sum;
    for (int d = 0; d < hs; ++d) out[d] += w * v[d];
  }
}

}  // namespace

void paged_attention(const float* q, const KvCacheSpec& spec, const float* pool, int layer,
                     const BatchMetadata& meta, const AttentionParams& p, float* out) {
  // The calling thread's buffer; the team reads it through this reference
  // (in the region, the name of a thread_local would be each thread's own).
  static thread_local std::vector<QueryRef> callers_queries;
  const std::vector<QueryRef>& queries = callers_queries;
  const bool threaded = list_queries(meta, p.num_heads, p.head_size, callers_queries) >= kMinWorkForThreads;
  const int group = p.num_heads / p.num_kv_heads;
  const int hs = p.head_size;
  const std::int64_t work = static_cast<std::int64_t>(queries.size()) * p.num_heads;
#pragma omp parallel if (threaded)
  {
    // Each thread's scores, kept between steps (the team's threads live on).
    static thread_local std::vector<float> scores;
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t w = 0; w < work; ++w) {
      const QueryRef& qr = queries[w / p.num_heads];
      const int h = static_cast<int>(w % p.num_heads);
      const std::int32_t* table = meta.block_tables.data() + static_cast<std::size_t>(qr.seq) * meta.max_blocks_per_seq;
      const std::size_t row = static_cast<std::size_t>(qr.token) * p.num_heads * hs + static_cast<std::size_t>(h) * hs;
      attend_head(q + row, table, qr.pos, h / group, spec, pool, layer, p.scale, scores, out + row);
    }
  }
}

}  // namespace pagedserve::kernels::cpu
