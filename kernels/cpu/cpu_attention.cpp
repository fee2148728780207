// PagedAttention on the CPU: each new token of each sequence attends to the
// keys at positions 0..its own, read through the sequence's block table
// straight from the scattered physical blocks (no gathered copy).

#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.hpp"

namespace pagedserve::kernels::cpu {

namespace {

struct QueryRef {
  int seq;
  int token;  // row in the batch
  int pos;    // its position: keys 0..pos are visible
};

std::vector<QueryRef> list_queries(const BatchMetadata& meta) {
  std::vector<QueryRef> out;
  out.reserve(meta.token_ids.size());
  for (int s = 0; s < meta.num_seqs(); ++s) {
    const int q = meta.query_start[s + 1] - meta.query_start[s];
    for (int i = 0; i < q; ++i) out.push_back({s, meta.query_start[s] + i, meta.context_lens[s] - q + i});
  }
  return out;
}

// One query head over one sequence's keys, as llama2.c computes it:
// scores, max-subtracted softmax, then the weighted sum of values.
void attend_head(const float* q, const std::int32_t* table, int pos, int kv_head, const KvCacheSpec& spec,
                 const float* pool, int layer, float scale, std::vector<float>& scores, float* out) {
  const int hs = spec.head_size, bs = spec.block_size;
  scores.resize(static_cast<std::size_t>(pos) + 1);
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
  const auto queries = list_queries(meta);
  const int group = p.num_heads / p.num_kv_heads;
  const int hs = p.head_size;
  const std::int64_t work = static_cast<std::int64_t>(queries.size()) * p.num_heads;
#pragma omp parallel
  {
    std::vector<float> scores;
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
