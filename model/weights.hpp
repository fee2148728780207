#pragma once
// Model weights as loaded from disk (host memory, possibly memory-mapped),
// before a backend uploads them.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/backend.hpp"

namespace pagedserve::model {

// A host tensor [rows, cols]; `owner` keeps the mapping or buffer alive.
// A synthetic tensor has no host data: the backend generates it (dummy
// weights).
struct HostTensor {
  std::shared_ptr<const void> owner;
  const void* data = nullptr;
  kernels::DType dtype = kernels::DType::f32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;  // a vector is [1, n]
  std::optional<kernels::SyntheticFill> synthetic;

  kernels::HostTensorView view() const { return {data, dtype, rows, cols, synthetic}; }
  bool empty() const { return data == nullptr && !synthetic; }
  // Whether two tensors are the same weights (tied embeddings).
  bool same_as(const HostTensor& o) const {
    if (synthetic || o.synthetic) return synthetic && o.synthetic && synthetic->seed == o.synthetic->seed;
    return data != nullptr && data == o.data;
  }
};

// Matrices are row-major [out_features, in_features], as y = W x.
struct LayerWeights {
  HostTensor attn_norm;  // [1, dim]
  HostTensor wq;         // [heads*hs, dim]
  HostTensor wk;         // [kv_heads*hs, dim]
  HostTensor wv;         // [kv_heads*hs, dim]
  HostTensor wo;         // [dim, heads*hs]
  HostTensor ffn_norm;   // [1, dim]
  HostTensor w_gate;     // [hidden, dim]   (llama2.c w1)
  HostTensor w_down;     // [dim, hidden]   (llama2.c w2)
  HostTensor w_up;       // [hidden, dim]   (llama2.c w3)
  // Present only where the architecture has them (empty otherwise):
  HostTensor bq, bk, bv;         // [1, heads*hs], [1, kv_heads*hs] x2 (Qwen2)
  HostTensor q_norm, k_norm;     // [1, hs] (Qwen3)
};

struct ModelWeights {
  HostTensor token_embedding;  // [vocab, dim]
  std::vector<LayerWeights> layers;
  HostTensor final_norm;       // [1, dim]
  HostTensor lm_head;          // [vocab, dim]; same data as token_embedding when tied
};

}  // namespace pagedserve::model
