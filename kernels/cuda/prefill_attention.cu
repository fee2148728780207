// Prefill attention on tensor cores, FlashAttention-2 style, reading K/V
// through the block table. One thread block takes a tile of up to 64 new
// tokens of one sequence and one query head; its 4 warps own 16 query rows
// each. Key tiles of 64 are staged in shared memory from their paged
// blocks; S = Q K^T and O += P V run as mma.sync m16n8k16 (fp16 or bf16
// operands, fp32 accumulation), with the softmax kept online per row, so
// the scores never leave registers and each K/V row is read once per tile.
//
//   mma m16n8k16 fragments (g = lane / 4, c = 2 * (lane % 4)):
//     A (16x16): rows g, g+8; cols c, c+1, c+8, c+9
//     B (16x8):  rows (k) c, c+1, c+8, c+9; col (n) g
//     C (16x8):  rows g, g+8; cols c, c+1
//   S's C fragments are P's A fragments for the next product: no shuffles.

#include <cstdint>

#include "kernels/attention_plan.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

namespace plan = ::pagedserve::kernels::attention;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kRows = plan::kTileRows;  // query rows a block (16 a warp)
constexpr int kKeys = 64;               // keys a shared-memory tile
constexpr int kPad = 8;                 // elements of padding a row: no bank conflicts
static_assert(kRows == 16 * kWarps, "one m16 row block per warp");

struct PrefillArgs {
  const std::int32_t* positions;
  const std::int32_t* block_tables;
  const std::int32_t* tiles;  // PrefillTile triples
  int max_blocks, heads, kv_heads;
  plan::PoolGeometry k, v;
  float scale_log2;  // softmax scale times log2(e): exp2 instead of exp
};

template <typename T>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi);
template <>
__device__ __forceinline__ std::uint32_t pack2<__half>(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&h);
}
template <>
__device__ __forceinline__ std::uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&h);
}

// Two 16-bit elements from separate rows into one register (low = first).
template <typename T>
__device__ __forceinline__ std::uint32_t pack_elements(T lo, T hi) {
  return static_cast<std::uint32_t>(*reinterpret_cast<const std::uint16_t*>(&lo)) |
         (static_cast<std::uint32_t>(*reinterpret_cast<const std::uint16_t*>(&hi)) << 16);
}

template <typename T>
__device__ __forceinline__ void mma(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1);
template <>
__device__ __forceinline__ void mma<__half>(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma<__nv_bfloat16>(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                                   std::uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ std::uint32_t load32(const void* p) { return *reinterpret_cast<const std::uint32_t*>(p); }

// Max and sum over the 4 lanes that share a row of a C fragment.
__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

constexpr std::size_t prefill_shared_bytes(int hs) {
  return static_cast<std::size_t>(kRows + 2 * kKeys) * (hs + kPad) * 2;
}

template <typename T, int kHs>
__global__ void __launch_bounds__(kThreads) prefill_attention_kernel(const T* __restrict__ q,  // [num_tokens, heads*hs]
                                                                     const T* __restrict__ pool, T* __restrict__ out,
                                                                     PrefillArgs a) {
  constexpr int kStride = kHs + kPad;
  constexpr int kVecsPerRow = kHs / 8;  // 16-byte vectors
  extern __shared__ __align__(16) unsigned char shared_raw[];
  T* q_s = reinterpret_cast<T*>(shared_raw);
  T* k_s = q_s + kRows * kStride;
  T* v_s = k_s + kKeys * kStride;

  const plan::PrefillTile tile{a.tiles[3 * blockIdx.x], a.tiles[3 * blockIdx.x + 1], a.tiles[3 * blockIdx.x + 2]};
  const int h = blockIdx.y, kv_head = plan::kv_head_of(h, a.heads, a.kv_heads);
  const std::int32_t* table = a.block_tables + static_cast<std::int64_t>(tile.seq) * a.max_blocks;
  const int last_pos = a.positions[tile.first_token + tile.rows - 1];
  const int num_keys = last_pos + 1;

  for (int i = threadIdx.x; i < kRows * kVecsPerRow; i += kThreads) {
    const int r = i / kVecsPerRow, vec = i % kVecsPerRow;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (r < tile.rows)
      val = *reinterpret_cast<const uint4*>(q + (static_cast<std::int64_t>(tile.first_token + r) * a.heads + h) * kHs + vec * 8);
    *reinterpret_cast<uint4*>(q_s + r * kStride + vec * 8) = val;
  }
  __syncthreads();

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, c = 2 * (lane & 3);
  const int row0 = warp * 16 + g, row1 = row0 + 8;
  // Rows past the tile attend like its last row (finite numbers, never written).
  const int pos0 = row0 < tile.rows ? a.positions[tile.first_token + row0] : last_pos;
  const int pos1 = row1 < tile.rows ? a.positions[tile.first_token + row1] : last_pos;

  std::uint32_t qf[kHs / 16][4];
#pragma unroll
  for (int ks = 0; ks < kHs / 16; ++ks) {
    qf[ks][0] = load32(q_s + row0 * kStride + ks * 16 + c);
    qf[ks][1] = load32(q_s + row1 * kStride + ks * 16 + c);
    qf[ks][2] = load32(q_s + row0 * kStride + ks * 16 + c + 8);
    qf[ks][3] = load32(q_s + row1 * kStride + ks * 16 + c + 8);
  }
  float o[kHs / 8][4];
#pragma unroll
  for (int n = 0; n < kHs / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;

  for (int first_key = 0; first_key < num_keys; first_key += kKeys) {
    __syncthreads();  // the last tile's K/V are no longer read
    for (int i = threadIdx.x; i < kKeys * kVecsPerRow; i += kThreads) {
      const int key = i / kVecsPerRow, vec = i % kVecsPerRow;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (first_key + key < num_keys) {
        kv = __ldg(reinterpret_cast<const uint4*>(pool + plan::key_offset(a.k, table, first_key + key, kv_head) + vec * 8));
        vv = __ldg(reinterpret_cast<const uint4*>(pool + plan::key_offset(a.v, table, first_key + key, kv_head) + vec * 8));
      }
      *reinterpret_cast<uint4*>(k_s + key * kStride + vec * 8) = kv;
      *reinterpret_cast<uint4*>(v_s + key * kStride + vec * 8) = vv;
    }
    __syncthreads();

    // S = Q K^T over this warp's 16 rows and the tile's 64 keys.
    float s[kKeys / 8][4];
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < kHs / 16; ++ks) {
        const T* krow = k_s + (n * 8 + g) * kStride + ks * 16 + c;
        mma<T>(s[n], qf[ks], load32(krow), load32(krow + 8));
      }
    }
    // Causal mask, scale, and the online softmax of each row.
    float tile_max0 = -INFINITY, tile_max1 = -INFINITY;
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int key = first_key + n * 8 + c + j;
        s[n][j] = key <= pos0 ? s[n][j] * a.scale_log2 : -INFINITY;
        s[n][2 + j] = key <= pos1 ? s[n][2 + j] * a.scale_log2 : -INFINITY;
        tile_max0 = fmaxf(tile_max0, s[n][j]);
        tile_max1 = fmaxf(tile_max1, s[n][2 + j]);
      }
    const float new_m0 = fmaxf(m0, quad_max(tile_max0)), new_m1 = fmaxf(m1, quad_max(tile_max1));
    const float keep0 = exp2f(m0 - new_m0), keep1 = exp2f(m1 - new_m1);
    m0 = new_m0;
    m1 = new_m1;
    float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        s[n][j] = exp2f(s[n][j] - m0);
        s[n][2 + j] = exp2f(s[n][2 + j] - m1);
        sum0 += s[n][j];
        sum1 += s[n][2 + j];
      }
    l0 = l0 * keep0 + quad_sum(sum0);
    l1 = l1 * keep1 + quad_sum(sum1);
#pragma unroll
    for (int n = 0; n < kHs / 8; ++n) {
      o[n][0] *= keep0;
      o[n][1] *= keep0;
      o[n][2] *= keep1;
      o[n][3] *= keep1;
    }
    // O += P V: P's fragments are S's accumulators, 16 keys a step.
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      const std::uint32_t p[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                  pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                  pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      const T* v0 = v_s + (kk * 16 + c) * kStride;
#pragma unroll
      for (int n = 0; n < kHs / 8; ++n) {
        const int d = n * 8 + g;
        const std::uint32_t b0 = pack_elements(v0[d], v0[kStride + d]);
        const std::uint32_t b1 = pack_elements(v0[8 * kStride + d], v0[9 * kStride + d]);
        mma<T>(o[n], p, b0, b1);
      }
    }
  }

  const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
#pragma unroll
  for (int n = 0; n < kHs / 8; ++n) {
    const int d = n * 8 + c;
    if (row0 < tile.rows) {
      T* dst = out + (static_cast<std::int64_t>(tile.first_token + row0) * a.heads + h) * kHs + d;
      dst[0] = from_float<T>(o[n][0] * inv0);
      dst[1] = from_float<T>(o[n][1] * inv0);
    }
    if (row1 < tile.rows) {
      T* dst = out + (static_cast<std::int64_t>(tile.first_token + row1) * a.heads + h) * kHs + d;
      dst[0] = from_float<T>(o[n][2] * inv1);
      dst[1] = from_float<T>(o[n][3] * inv1);
    }
  }
}

template <typename T, int kHs>
void launch_shape(const PrefillArgs& a, int num_tiles, int heads, const Tensor& q, const void* pool, Tensor out,
                  cudaStream_t s) {
  auto kernel = prefill_attention_kernel<T, kHs>;
  constexpr std::size_t shared = prefill_shared_bytes(kHs);
  if (shared > 48 * 1024)
    PS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)));
  kernel<<<dim3(num_tiles, heads), kThreads, shared, s>>>(static_cast<const T*>(q.data), static_cast<const T*>(pool),
                                                          static_cast<T*>(out.data), a);
  PS_CUDA_LAUNCH_CHECK();
}

template <typename T>
void launch_typed(int hs, const PrefillArgs& a, int num_tiles, int heads, const Tensor& q, const void* pool,
                  Tensor out, cudaStream_t s) {
  if (hs == 64) launch_shape<T, 64>(a, num_tiles, heads, q, pool, out, s);
  else launch_shape<T, 128>(a, num_tiles, heads, q, pool, out, s);
}

}  // namespace

bool tiled_prefill_supported(DType dtype, int head_size) {
  return dtype != DType::f32 && (head_size == 64 || head_size == 128);
}

void launch_prefill_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer,
                              const DeviceBatch& b, const AttentionParams& p, Tensor out, cudaStream_t s) {
  if (b.num_prefill_tiles == 0) return;
  PrefillArgs a;
  a.positions = b.positions;
  a.block_tables = b.block_tables;
  a.tiles = b.prefill_tiles;
  a.max_blocks = b.max_blocks_per_seq;
  a.heads = p.num_heads;
  a.kv_heads = p.num_kv_heads;
  a.k = plan::pool_geometry(spec, layer, 0);
  a.v = plan::pool_geometry(spec, layer, 1);
  a.scale_log2 = p.scale * 1.4426950408889634f;
  if (q.dtype == DType::f16) launch_typed<__half>(p.head_size, a, b.num_prefill_tiles, p.num_heads, q, pool, out, s);
  else if (q.dtype == DType::bf16) launch_typed<__nv_bfloat16>(p.head_size, a, b.num_prefill_tiles, p.num_heads, q, pool, out, s);
  else throw std::logic_error("tiled prefill runs in fp16 or bf16");
}

}  // namespace pagedserve::kernels::cuda
