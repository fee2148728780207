#pragma once
// The CPU backend's kernels as free functions over fp32 host arrays, so tests
// and other backends' references can call them directly.

#include <cstdint>
#include <span>

#include "kernels/backend.hpp"

namespace pagedserve::kernels::cpu {

// out[r] = x[r] * weight / sqrt(mean(x[r]^2) + eps), rows of `dim`.
void rms_norm(const float* x, const float* weight, float eps, std::int64_t rows, std::int64_t dim, float* out);
// out [n, out_features] = x [n, in] * w [out_features, in]^T
void matmul(const float* x, const float* w, std::int64_t n, std::int64_t in, std::int64_t out_features, float* out);
// Rotates one token's q [heads*hs] and k [kv_heads*hs] in place at `pos`.
void rotary(float* q, float* k, int pos, const RopeParams& p);
void silu_mul(const float* gate, const float* up, std::int64_t n, float* out);

// K/V of one token for one layer into the block-major pool.
void write_kv_token(const float* k, const float* v, const KvCacheSpec& spec, float* pool, int layer,
                    std::int64_t slot);

// Attention of the new tokens of one batch over the paged cache.
void paged_attention(const float* q, const KvCacheSpec& spec, const float* pool, int layer,
                     const BatchMetadata& meta, const AttentionParams& p, float* out);

}  // namespace pagedserve::kernels::cpu
