#pragma once
// The CPU backend's kernels as free functions over fp32 host arrays, so tests
// and other backends' references can call them directly.

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/cpu/gemv.hpp"

namespace pagedserve::kernels::cpu {

// out[r] = x[r] * weight / sqrt(mean(x[r]^2) + eps), rows of `dim`.
void rms_norm(const float* x, const float* weight, float eps, std::int64_t rows, std::int64_t dim, float* out);
// x[r] += residual[r], then out[r] = rms_norm(x[r]): one pass over each row
// instead of two, with the very sums of add-then-rms_norm.
void add_rms_norm(float* x, const float* residual, const float* weight, float eps, std::int64_t rows, std::int64_t dim,
                  float* out);
// Up to this many rows of x, matmul streams the weights through the GEMV
// kernels (kernels/cpu/gemv.hpp), kGemvMaxRows rows a pass; above, OpenBLAS's
// sgemm, which reuses each weight across many rows, is faster. The default
// is where the switch paid when measured (docs/PERFORMANCE.md); benchmarks
// move it to measure again.
inline constexpr int kDefaultGemvUpToRows = 8;
int gemv_up_to_rows();
void set_gemv_up_to_rows(int rows);

// out [n, out_features] = x [n, in] * w [out_features, in]^T
void matmul(const float* x, const float* w, std::int64_t n, std::int64_t in, std::int64_t out_features, float* out);
// The same for weights of any type the backend keeps (f32, bf16, q8_0):
// bf16 and q8_0 beyond gemv_up_to_rows() rows are converted to f32 a tile of
// rows at a time into `tile` (grown once, then reused) for sgemm.
void matmul(const float* x, std::int64_t n, const WeightView& w, float* out, std::vector<float>& tile);
// cos and sin of pos * freq_i for each pair i < head_size / 2, interleaved
// [cos_0, sin_0, cos_1, ...], in llama2.c's float arithmetic.
void rope_angles(int pos, const RopeParams& p, float* cos_sin);
// Rotates one token's q [heads*hs] and k [kv_heads*hs] in place by the
// angles of its position.
void rotary(float* q, float* k, const float* cos_sin, const RopeParams& p);
void rotary(float* q, float* k, int pos, const RopeParams& p);

// rope_angles of every position up to the largest asked for, computed once
// and kept: a step's tokens share them across heads and layers. The angles
// are the very floats rope_angles gives, so results stay bit for bit.
class RopeTable {
 public:
  const float* angles(int pos, const RopeParams& p);

 private:
  RopeParams params_;
  int num_positions_ = 0;
  std::vector<float> cos_sin_;  // [num_positions_, head_size]
};
void silu_mul(const float* gate, const float* up, std::int64_t n, float* out);

// K/V of one token for one layer into the block-major pool.
void write_kv_token(const float* k, const float* v, const KvCacheSpec& spec, float* pool, int layer,
                    std::int64_t slot);

// Attention of the new tokens of one batch over the paged cache.
void paged_attention(const float* q, const KvCacheSpec& spec, const float* pool, int layer,
                     const BatchMetadata& meta, const AttentionParams& p, float* out);

}  // namespace pagedserve::kernels::cpu
