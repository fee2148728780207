// The fast PagedAttention kernel (FlashDecoding on a paged cache). One
// thread block computes one query token's whole GQA group (the query heads
// that share a KV head) over one split-K partition of its keys, so each K/V
// row is read from memory once per group, not once per query head.
//
//   grid (num_tokens, kv_heads, partitions), 4 warps
//   a K/V row of head_size elements spans kLanes lanes, 16 bytes a lane
//     (head_size 128 in fp16: 16 lanes a row, 2 rows a warp pass)
//   each warp loads 8 passes (16 rows) before it uses any: 8 independent
//   16-byte loads per lane in flight
//
// The q.k dot products of those 8 passes are summed over the row's lanes
// with a halving exchange (each shuffle step keeps half the partial sums),
// so a row costs about one shuffle per head instead of log2(kLanes).
// Scores land in shared memory; the softmax is exact within the partition;
// partitions are combined by the reduce kernel of paged_attention.cu. The
// index math is kernels/attention_plan.hpp, tested on the host.

#include <cstdint>

#include "kernels/attention_plan.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

namespace plan = ::pagedserve::kernels::attention;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kPasses = 8;  // row passes a warp loads before it computes
constexpr unsigned kFull = 0xffffffffu;

struct FastArgs {
  const std::int32_t* token_seq;     // [num_tokens]
  const std::int32_t* positions;     // [num_tokens]
  const std::int32_t* block_tables;  // [num_seqs, max_blocks]
  const std::int32_t* query_start;   // [num_seqs + 1]; with skip_tiled
  int max_blocks, heads, partition, num_partitions;
  bool skip_tiled;  // tokens of tiled sequences are the prefill kernel's
  plan::PoolGeometry k, v;
  float scale;
};

// Element e of a 16-byte vector, widened to fp32.
template <typename T>
__device__ __forceinline__ float element(const uint4& raw, int e) {
  return to_float(reinterpret_cast<const T*>(&raw)[e]);
}

// Sums v[pass][g] over the kLanes lanes of a row. Each exchange step splits
// the passes in half: a lane keeps one half (by its lane bit), sends the
// other, and adds what its partner sent; once one pass is left the
// remaining steps add plainly. Afterwards v[0..G) holds the totals of pass
// `pass` for every head of the group.
template <int kCount, int kOffset, int G>
__device__ __forceinline__ void fold_rows(float (&v)[kPasses * G], int lane, int& pass) {
  if constexpr (kOffset > 0) {
    if constexpr (kCount > 1) {
      constexpr int kHalf = kCount / 2;
      const bool upper = (lane & kOffset) != 0;
#pragma unroll
      for (int i = 0; i < kHalf * G; ++i) {
        const float send = upper ? v[i] : v[i + kHalf * G];
        const float keep = upper ? v[i + kHalf * G] : v[i];
        v[i] = keep + __shfl_xor_sync(kFull, send, kOffset);
      }
      if (upper) pass += kHalf;
      fold_rows<kHalf, kOffset / 2, G>(v, lane, pass);
    } else {
#pragma unroll
      for (int g = 0; g < G; ++g) v[g] += __shfl_xor_sync(kFull, v[g], kOffset);
      fold_rows<1, kOffset / 2, G>(v, lane, pass);
    }
  }
}

// Shared memory (floats): q [G][hs] | scores [G][partition] | max [G] |
// sum [G] | reduce scratch [32] | per-warp outputs [warps][G][hs].
std::size_t fast_shared_bytes(int group, int hs, int partition) {
  return sizeof(float) * (static_cast<std::size_t>(group) * hs * (1 + kWarps) +
                          static_cast<std::size_t>(group) * partition + 2 * group + 32);
}

template <typename T, int G, int kLanes>
__global__ void __launch_bounds__(kThreads) fast_attention_kernel(
    const T* __restrict__ q,  // [num_tokens, heads*hs]
    const T* __restrict__ pool, T* __restrict__ out,
    float* __restrict__ max_logits, float* __restrict__ exp_sums, float* __restrict__ partial_out, FastArgs a) {
  constexpr int kVec = 16 / sizeof(T);
  constexpr int kHs = kLanes * kVec;
  constexpr int kRowsPerPass = 32 / kLanes;
  constexpr int kStride = kWarps * kRowsPerPass * kPasses;  // keys a block covers per loop
  extern __shared__ float smem[];
  float* q_s = smem;
  float* scores = q_s + G * kHs;
  float* max_s = scores + G * a.partition;
  float* sum_s = max_s + G;
  float* scratch = sum_s + G;
  float* warp_out = scratch + 32;

  const int t = blockIdx.x, kv_head = blockIdx.y, part = blockIdx.z;
  if (a.skip_tiled) {
    const int seq = a.token_seq[t];
    if (plan::tiled(a.query_start[seq + 1] - a.query_start[seq])) return;
  }
  const int first_head = kv_head * G;
  const auto slot = [&](int g) {
    return (static_cast<std::int64_t>(t) * a.heads + first_head + g) * a.num_partitions + part;
  };
  const plan::KeyRange keys = plan::partition_keys(a.positions[t], part, a.partition);
  if (keys.first >= keys.last) {  // past the causal horizon: an empty partial
    if (threadIdx.x < G) {
      max_logits[slot(threadIdx.x)] = -INFINITY;
      exp_sums[slot(threadIdx.x)] = 0.0f;
    }
    return;
  }
  const int n = keys.last - keys.first;
  const std::int32_t* table = a.block_tables + static_cast<std::int64_t>(a.token_seq[t]) * a.max_blocks;
  const T* q_row = q + (static_cast<std::int64_t>(t) * a.heads + first_head) * kHs;
  for (int i = threadIdx.x; i < G * kHs; i += kThreads) q_s[i] = to_float(q_row[i]) * a.scale;
  __syncthreads();

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int row_in_pass = lane / kLanes, row_lane = lane % kLanes, col = row_lane * kVec;
  const auto key_of = [&](int base, int pass) { return base + pass * kRowsPerPass + row_in_pass; };
  const auto load = [&](const plan::PoolGeometry& geo, int i) {
    return __ldg(reinterpret_cast<const uint4*>(pool + plan::key_offset(geo, table, keys.first + i, kv_head) + col));
  };

  float qr[G][kVec];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < kVec; ++e) qr[g][e] = q_s[g * kHs + col + e];

  // Scores: q . k for each key of the partition and each head of the group.
  for (int base = warp * kRowsPerPass * kPasses; base < n; base += kStride) {
    uint4 raw[kPasses];
#pragma unroll
    for (int p = 0; p < kPasses; ++p) raw[p] = key_of(base, p) < n ? load(a.k, key_of(base, p)) : make_uint4(0, 0, 0, 0);
    float dots[kPasses * G];
#pragma unroll
    for (int p = 0; p < kPasses; ++p)
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float d = 0.0f;
#pragma unroll
        for (int e = 0; e < kVec; ++e) d += qr[g][e] * element<T>(raw[p], e);
        dots[p * G + g] = d;
      }
    int pass = 0;
    fold_rows<kPasses, kLanes / 2, G>(dots, row_lane, pass);
    // Lanes that agree on every halving bit hold the same totals: one writes.
    const int i = key_of(base, pass);
    if (i < n && row_lane % (kLanes / kPasses) == 0)
#pragma unroll
      for (int g = 0; g < G; ++g) scores[g * a.partition + i] = dots[g];
  }
  __syncthreads();

  // Softmax within the partition, one head of the group at a time.
  for (int g = 0; g < G; ++g) {
    float* s = scores + g * a.partition;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < n; i += kThreads) mx = fmaxf(mx, s[i]);
    mx = block_reduce<true>(mx, scratch);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += kThreads) {
      const float e = __expf(s[i] - mx);
      s[i] = e;
      sum += e;
    }
    sum = block_reduce<false>(sum, scratch);  // its barriers publish s[]
    if (threadIdx.x == 0) {
      max_s[g] = mx;
      sum_s[g] = sum;
    }
  }
  __syncthreads();

  // Output: sum over keys of p * v, each lane owning 16 bytes of the row.
  float acc[G][kVec];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < kVec; ++e) acc[g][e] = 0.0f;
  for (int base = warp * kRowsPerPass * kPasses; base < n; base += kStride) {
    uint4 raw[kPasses];
#pragma unroll
    for (int p = 0; p < kPasses; ++p) raw[p] = key_of(base, p) < n ? load(a.v, key_of(base, p)) : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int p = 0; p < kPasses; ++p) {
      const int i = key_of(base, p);
      if (i >= n) continue;
#pragma unroll
      for (int g = 0; g < G; ++g) {
        const float prob = scores[g * a.partition + i];
#pragma unroll
        for (int e = 0; e < kVec; ++e) acc[g][e] += prob * element<T>(raw[p], e);
      }
    }
  }
  // Rows of one pass sit in lanes kLanes apart: fold them together.
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < kVec; ++e)
#pragma unroll
      for (int offset = kLanes; offset < 32; offset <<= 1) acc[g][e] += __shfl_xor_sync(kFull, acc[g][e], offset);
  if (row_in_pass == 0)
#pragma unroll
    for (int g = 0; g < G; ++g)
#pragma unroll
      for (int e = 0; e < kVec; ++e) warp_out[(warp * G + g) * kHs + col + e] = acc[g][e];
  __syncthreads();

  for (int i = threadIdx.x; i < G * kHs; i += kThreads) {
    const int g = i / kHs, d = i % kHs;
    float v = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) v += warp_out[(w * G + g) * kHs + d];
    if (a.num_partitions == 1) out[(static_cast<std::int64_t>(t) * a.heads + first_head) * kHs + i] = from_float<T>(v / sum_s[g]);
    else partial_out[slot(g) * kHs + d] = v;
  }
  if (a.num_partitions > 1 && threadIdx.x < G) {
    max_logits[slot(threadIdx.x)] = max_s[threadIdx.x];
    exp_sums[slot(threadIdx.x)] = sum_s[threadIdx.x];
  }
}

struct Launch {
  const FastArgs& args;
  dim3 grid;
  std::size_t shared;
  const void* q;
  const void* pool;
  void* out;
  const AttentionWorkspaceSplit& ws;
  cudaStream_t stream;
};

template <typename T, int G, int kLanes>
void launch_shape(const Launch& l) {
  auto kernel = fast_attention_kernel<T, G, kLanes>;
  if (l.shared > 48 * 1024)
    PS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.shared)));
  kernel<<<l.grid, kThreads, l.shared, l.stream>>>(static_cast<const T*>(l.q), static_cast<const T*>(l.pool),
                                                   static_cast<T*>(l.out), l.ws.max_logits, l.ws.exp_sums,
                                                   l.ws.partial_out, l.args);
  PS_CUDA_LAUNCH_CHECK();
}

template <typename T, int G>
void launch_group(int lanes, const Launch& l) {
  switch (lanes) {
    case 8: return launch_shape<T, G, 8>(l);
    case 16: return launch_shape<T, G, 16>(l);
    case 32: return launch_shape<T, G, 32>(l);
    default: throw std::logic_error("fast attention: unsupported head size");
  }
}

template <typename T>
void launch_typed(int group, int lanes, const Launch& l) {
  switch (group) {
    case 1: return launch_group<T, 1>(lanes, l);
    case 2: return launch_group<T, 2>(lanes, l);
    case 3: return launch_group<T, 3>(lanes, l);
    case 4: return launch_group<T, 4>(lanes, l);
    case 5: return launch_group<T, 5>(lanes, l);
    case 6: return launch_group<T, 6>(lanes, l);
    case 7: return launch_group<T, 7>(lanes, l);
    case 8: return launch_group<T, 8>(lanes, l);
    default: throw std::logic_error("fast attention: unsupported GQA group");
  }
}

}  // namespace

bool fast_attention_supported(DType dtype, const AttentionParams& p, int partition) {
  const int group = p.num_heads / p.num_kv_heads;
  return plan::fast_decode_supported(p.head_size, static_cast<int>(dtype_size(dtype)), group) &&
         fast_shared_bytes(group, p.head_size, partition) <= 200 * 1024;
}

void launch_fast_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer, const DeviceBatch& b,
                           const AttentionParams& p, int partition, bool skip_tiled, const AttentionWorkspaceSplit& ws,
                           Tensor out, cudaStream_t s) {
  FastArgs a;
  a.query_start = b.query_start;
  a.skip_tiled = skip_tiled;
  a.token_seq = b.token_seq;
  a.positions = b.positions;
  a.block_tables = b.block_tables;
  a.max_blocks = b.max_blocks_per_seq;
  a.heads = p.num_heads;
  a.partition = partition;
  a.num_partitions = plan::num_partitions(b.max_context_len, partition);
  a.k = plan::pool_geometry(spec, layer, 0);
  a.v = plan::pool_geometry(spec, layer, 1);
  a.scale = p.scale;
  const int group = p.num_heads / p.num_kv_heads;
  const int lanes = plan::fast_decode_lanes(p.head_size, static_cast<int>(dtype_size(q.dtype)));
  const Launch l{a, dim3(b.num_tokens, p.num_kv_heads, a.num_partitions), fast_shared_bytes(group, p.head_size, partition),
                 q.data, pool, out.data, ws, s};
  PS_DISPATCH_DTYPE(q.dtype, [&] { launch_typed<scalar_t>(group, lanes, l); });
}

}  // namespace pagedserve::kernels::cuda
