// PagedAttention on the GPU. One thread block computes one query token's one
// head over one partition of its keys, reading K and V straight from the
// physical blocks named by the sequence's block table (no gathered copy).
//
//   grid (num_tokens, heads, partitions)      partition = 512 keys
//   ┌ token t, head h ─ keys [0 ........ pos] ┐
//   │ part 0: 0..511 │ part 1: 512..1023 │ ... │  -> partial max, sum, out
//   └────────────────────────────────────────┘  -> reduce kernel combines
//
// Short contexts use one partition and write the output directly; long ones
// are split so enough blocks run (split-K), then reduced. A prefill chunk is
// just more query tokens, each attending causally to keys 0..its position.

#include <algorithm>

#include "kernels/attention_plan.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

constexpr int kThreads = 128;

struct AttentionArgs {
  const std::int32_t* token_seq;     // [num_tokens]
  const std::int32_t* positions;     // [num_tokens]
  const std::int32_t* block_tables;  // [num_seqs, max_blocks]
  int max_blocks, heads, kv_heads, hs, block_size, num_partitions, partition;
  std::int64_t block_stride, k_offset, v_offset;  // elements
  float scale;
};

template <typename T>
__global__ void paged_attention_kernel(const T* __restrict__ q,     // [num_tokens, heads*hs]
                                       const T* __restrict__ pool,  // block-major KV pool
                                       T* __restrict__ out,         // [num_tokens, heads*hs] (one partition)
                                       float* __restrict__ max_logits,   // [num_tokens, heads, partitions]
                                       float* __restrict__ exp_sums,     // [num_tokens, heads, partitions]
                                       float* __restrict__ partial_out,  // [num_tokens, heads, partitions, hs]
                                       AttentionArgs a) {
  extern __shared__ float smem[];
  float* q_s = smem;                       // [hs]
  float* logits = smem + a.hs;             // [partition]
  float* scratch = logits + a.partition;   // [32]
  const std::int64_t t = blockIdx.x;
  const int h = blockIdx.y, part = blockIdx.z;
  const int context = a.positions[t] + 1;
  const int start = part * a.partition;
  const std::int64_t slot = (t * a.heads + h) * a.num_partitions + part;
  if (start >= context) {  // this partition lies past the causal horizon
    if (threadIdx.x == 0) {
      max_logits[slot] = -INFINITY;
      exp_sums[slot] = 0.0f;
    }
    return;
  }
  const int end = min(start + a.partition, context);
  const int kv_head = h / (a.heads / a.kv_heads);
  const std::int32_t* table = a.block_tables + static_cast<std::int64_t>(a.token_seq[t]) * a.max_blocks;
  for (int d = threadIdx.x; d < a.hs; d += blockDim.x) q_s[d] = to_float(q[(t * a.heads + h) * a.hs + d]) * a.scale;
  __syncthreads();

  // Scores: each warp takes every num_warps-th key; lanes split the head.
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, num_warps = blockDim.x >> 5;
  for (int key = start + warp; key < end; key += num_warps) {
    const std::int64_t block = table[key / a.block_size];
    const T* k = pool + block * a.block_stride + a.k_offset +
                 (static_cast<std::int64_t>(kv_head) * a.block_size + key % a.block_size) * a.hs;
    float dot = 0.0f;
    for (int d = lane; d < a.hs; d += 32) dot += q_s[d] * to_float(k[d]);
    dot = warp_sum(dot);
    if (lane == 0) logits[key - start] = dot;
  }
  __syncthreads();
  const int n = end - start;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, logits[i]);
  mx = block_reduce<true>(mx, scratch);
  float sum = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    logits[i] = __expf(logits[i] - mx);
    sum += logits[i];
  }
  sum = block_reduce<false>(sum, scratch);  // its internal barriers also publish logits[]

  // Output: threads split the head; consecutive threads read consecutive V.
  for (int d = threadIdx.x; d < a.hs; d += blockDim.x) {
    float acc = 0.0f;
    for (int key = start; key < end; ++key) {
      const std::int64_t block = table[key / a.block_size];
      const T* v = pool + block * a.block_stride + a.v_offset +
                   (static_cast<std::int64_t>(kv_head) * a.block_size + key % a.block_size) * a.hs;
      acc += logits[key - start] * to_float(v[d]);
    }
    if (a.num_partitions == 1) out[(t * a.heads + h) * a.hs + d] = from_float<T>(acc / sum);
    else partial_out[slot * a.hs + d] = acc;
  }
  if (a.num_partitions > 1 && threadIdx.x == 0) {
    max_logits[slot] = mx;
    exp_sums[slot] = sum;
  }
}

// Combines the partitions of one (token, head): rescales each partial sum
// and output by exp(its max - the global max).
// Tokens the tiled prefill kernel computed (skip_tiled) have no partials.
template <typename T>
__global__ void reduce_partitions_kernel(T* __restrict__ out,  // [num_tokens, heads*hs]
                                         const float* __restrict__ max_logits, const float* __restrict__ exp_sums,
                                         const float* __restrict__ partial_out, int heads, int hs, int num_partitions,
                                         const std::int32_t* __restrict__ token_seq,
                                         const std::int32_t* __restrict__ query_start, bool skip_tiled) {
  if (skip_tiled) {
    const int seq = token_seq[blockIdx.x];
    if (attention::tiled(query_start[seq + 1] - query_start[seq])) return;
  }
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * heads + blockIdx.y;  // (token, head)
  const float* m = max_logits + row * num_partitions;
  const float* s = exp_sums + row * num_partitions;
  float gmax = -INFINITY;
  for (int p = 0; p < num_partitions; ++p) gmax = fmaxf(gmax, m[p]);
  float total = 0.0f;
  for (int p = 0; p < num_partitions; ++p)
    if (s[p] > 0.0f) total += s[p] * __expf(m[p] - gmax);
  for (int d = threadIdx.x; d < hs; d += blockDim.x) {
    float acc = 0.0f;
    for (int p = 0; p < num_partitions; ++p)
      if (s[p] > 0.0f) acc += partial_out[(row * num_partitions + p) * hs + d] * __expf(m[p] - gmax);
    out[row * hs + d] = from_float<T>(acc / total);
  }
}

}  // namespace

std::size_t attention_workspace_floats(int num_tokens, int heads, int head_size, int max_context_len, int partition) {
  const int parts = std::max(1, (max_context_len + partition - 1) / partition);
  if (parts == 1) return 0;
  return static_cast<std::size_t>(num_tokens) * heads * parts * (2 + static_cast<std::size_t>(head_size));
}

void launch_paged_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer, const DeviceBatch& b,
                            const AttentionParams& p, const AttentionConfig& config, const AttentionWorkspace& ws,
                            Tensor out, cudaStream_t s) {
  if (b.num_tokens == 0) return;
  AttentionArgs a;
  a.token_seq = b.token_seq;
  a.positions = b.positions;
  a.block_tables = b.block_tables;
  a.max_blocks = b.max_blocks_per_seq;
  a.heads = p.num_heads;
  a.kv_heads = p.num_kv_heads;
  a.hs = p.head_size;
  a.block_size = spec.block_size;
  a.partition = config.partition;
  a.num_partitions = std::max(1, (b.max_context_len + config.partition - 1) / config.partition);
  a.block_stride = static_cast<std::int64_t>(spec.elems_per_block());
  a.k_offset = static_cast<std::int64_t>(spec.offset(0, layer, 0));
  a.v_offset = static_cast<std::int64_t>(spec.offset(0, layer, 1));
  a.scale = p.scale;
  const std::size_t rows = static_cast<std::size_t>(b.num_tokens) * p.num_heads * a.num_partitions;
  if (a.num_partitions > 1 && ws.capacity_floats < rows * (2 + static_cast<std::size_t>(p.head_size)))
    throw std::logic_error("attention workspace too small for the batch");
  const AttentionWorkspaceSplit split{ws.data, ws.data + rows, ws.data + 2 * rows};
  const bool fast = config.kernel == AttentionKernel::fast && fast_attention_supported(q.dtype, p, config.partition);
  const bool tiled = fast && b.num_prefill_tiles > 0 && tiled_prefill_supported(q.dtype, p.head_size);
  PS_DISPATCH_DTYPE(q.dtype, [&] {
    if (fast) {
      launch_fast_attention(q, spec, pool, layer, b, p, config.partition, tiled, split, out, s);
      if (tiled) launch_prefill_attention(q, spec, pool, layer, b, p, out, s);
    } else {
      const dim3 grid(b.num_tokens, p.num_heads, a.num_partitions);
      const std::size_t shared = (p.head_size + config.partition + 32) * sizeof(float);
      auto kernel = paged_attention_kernel<scalar_t>;
      if (shared > 48 * 1024)
        PS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)));
      kernel<<<grid, kThreads, shared, s>>>(static_cast<const scalar_t*>(q.data), static_cast<const scalar_t*>(pool),
                                            static_cast<scalar_t*>(out.data), split.max_logits, split.exp_sums,
                                            split.partial_out, a);
      PS_CUDA_LAUNCH_CHECK();
    }
    if (a.num_partitions > 1) {
      reduce_partitions_kernel<scalar_t><<<dim3(b.num_tokens, p.num_heads), kThreads, 0, s>>>(
          static_cast<scalar_t*>(out.data), split.max_logits, split.exp_sums, split.partial_out, p.num_heads,
          p.head_size, a.num_partitions, b.token_seq, b.query_start, tiled);
      PS_CUDA_LAUNCH_CHECK();
    }
  });
}

}  // namespace pagedserve::kernels::cuda
