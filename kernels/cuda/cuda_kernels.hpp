#pragma once
// Host-side launchers of the CUDA kernels. Pointers are device pointers;
// shapes are given in each comment as [rows, cols] row-major.

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/backend.hpp"
#include "kernels/cuda/cuda_backend.hpp"

namespace pagedserve::kernels::cuda {

// The batch's index arrays on the device (see kernels/batch.hpp).
struct DeviceBatch {
  const std::int32_t* token_ids = nullptr;     // [num_tokens]
  const std::int32_t* positions = nullptr;     // [num_tokens]
  const std::int64_t* slot_mapping = nullptr;  // [num_tokens]
  const std::int32_t* token_seq = nullptr;     // [num_tokens] which sequence each token belongs to
  const std::int32_t* context_lens = nullptr;  // [num_seqs]
  const std::int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq]
  const std::int32_t* logits_rows = nullptr;   // [num_logits_rows]
  const std::int32_t* query_start = nullptr;   // [num_seqs + 1]
  const std::int32_t* prefill_tiles = nullptr; // [num_prefill_tiles][3]: attention::PrefillTile
  int num_tokens = 0, num_seqs = 0, max_blocks_per_seq = 0, num_logits_rows = 0, max_context_len = 0;
  int num_prefill_tiles = 0;
};

void launch_embedding(const Tensor& table, const DeviceBatch& b, Tensor out, cudaStream_t s);
// A vocab-parallel rank's lookup: `table` holds the rows of token ids
// [first_id, first_id + table.rows); other tokens get zero rows.
void launch_embedding_rows(const Tensor& table, std::int32_t first_id, const DeviceBatch& b, Tensor out, cudaStream_t s);
void launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out, cudaStream_t s);
void launch_rotary(Tensor q, Tensor k, const DeviceBatch& b, const RopeParams& p, cudaStream_t s);
void launch_silu_mul(const Tensor& gate, const Tensor& up, Tensor out, cudaStream_t s);
void launch_add(Tensor x, const Tensor& y, cudaStream_t s);
// bias.cu: x [n, c] += bias [1, c] on every row.
void launch_add_bias(Tensor x, const Tensor& bias, cudaStream_t s);
// gemv.cu: out [m, n] = x [m, k] * w [n, k]^T for m <= 8 rows of one type,
// 16-byte aligned rows; a warp a weight row, the weights read once.
bool gemv_applies(const Tensor& x, const Tensor& w, const Tensor& out);
void launch_gemv(const Tensor& x, const Tensor& w, Tensor out, cudaStream_t s);

// x += residual; out = rms_norm(x) * weight, one block a row.
void launch_add_rms_norm(Tensor x, const Tensor& residual, const Tensor& weight, float eps, Tensor out, cudaStream_t s);
// qkv [n, q+k+v] -> q, k rotated by position, v copied.
void launch_split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const DeviceBatch& b, const RopeParams& p,
                             cudaStream_t s);
// out [n, h] = silu(gate_up[:, :h]) * gate_up[:, h:]
void launch_silu_mul_halves(const Tensor& gate_up, Tensor out, cudaStream_t s);
void launch_gather_rows(const Tensor& x, const DeviceBatch& b, Tensor out, cudaStream_t s);
// dst[i] = float(src[i]) for n elements of type `from`.
void launch_to_f32(const void* src, DType from, float* dst, std::int64_t n, cudaStream_t s);
// dst[i] (type `to`) = src[i] (type `from`), n elements: weights converted on
// the device at load.
void launch_convert(const void* src, DType from, void* dst, DType to, std::int64_t n, cudaStream_t s);
// dst[i] (type `to`) = synthetic_value(fill, i): dummy weights made on the device.
void launch_synthetic_fill(const SyntheticFill& fill, void* dst, DType to, std::int64_t n, cudaStream_t s);

// k, v [num_tokens, kv_heads*hs] into the block-major pool at slot_mapping.
void launch_write_kv(const Tensor& k, const Tensor& v, const KvCacheSpec& spec, void* pool, int layer,
                     const DeviceBatch& b, cudaStream_t s);

// Scratch for split-K attention, laid out per launch as partial maxima
// [rows], sums [rows] and outputs [rows, hs], rows = tokens*heads*partitions.
struct AttentionWorkspace {
  float* data = nullptr;
  std::size_t capacity_floats = 0;
};
// The three parts of a workspace for one launch.
struct AttentionWorkspaceSplit {
  float* max_logits = nullptr;   // [tokens, heads, partitions]
  float* exp_sums = nullptr;     // [tokens, heads, partitions]
  float* partial_out = nullptr;  // [tokens, heads, partitions, hs]
};
constexpr int kAttentionPartition = 512;  // keys per partition (split-K), by default
std::size_t attention_workspace_floats(int num_tokens, int heads, int head_size, int max_context_len,
                                       int partition = kAttentionPartition);

// Which PagedAttention kernel runs, and the split-K partition in keys.
struct AttentionConfig {
  AttentionKernel kernel = AttentionKernel::fast;
  int partition = kAttentionPartition;
};

// out, q [num_tokens, heads*hs]; the pool is block-major (kv_cache.hpp).
// The fast kernel where it supports the shape, else the simple one.
void launch_paged_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer, const DeviceBatch& b,
                            const AttentionParams& p, const AttentionConfig& config, const AttentionWorkspace& ws,
                            Tensor out, cudaStream_t s);

// prefill_attention.cu: the tiled tensor-core kernel for the tokens of
// sequences with several new tokens (fp16/bf16, head size 64 or 128).
bool tiled_prefill_supported(DType dtype, int head_size);
void launch_prefill_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer,
                              const DeviceBatch& b, const AttentionParams& p, Tensor out, cudaStream_t s);

// decode_attention.cu: the fast kernel (partials only; the caller reduces).
// With skip_tiled, tokens the prefill kernel computes are left alone.
bool fast_attention_supported(DType dtype, const AttentionParams& p, int partition);
void launch_fast_attention(const Tensor& q, const KvCacheSpec& spec, const void* pool, int layer, const DeviceBatch& b,
                           const AttentionParams& p, int partition, bool skip_tiled, const AttentionWorkspaceSplit& ws,
                           Tensor out, cudaStream_t s);

}  // namespace pagedserve::kernels::cuda
