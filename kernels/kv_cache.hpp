#pragma once
// The paged KV cache: one pre-allocated pool of fixed-size blocks.
//
// Memory layout (block-major, so one physical block of every layer is one
// contiguous chunk: copy-on-write and swap move a block with one memcpy):
//
//   pool [num_blocks][num_layers][2 = K,V][num_kv_heads][block_size][head_size]
//
//   block b ─┬─ layer 0 ─┬─ K [heads][block_size][head_size]
//            │           └─ V [heads][block_size][head_size]
//            ├─ layer 1 ─ ...
//
// Token t of a sequence lives in logical block t / block_size at offset
// t % block_size; the block table maps the logical block to physical b, and
// its "slot" is b * block_size + offset.

#include <cstddef>
#include <cstdint>

#include "kernels/tensor.hpp"
#include "memory/block_copy.hpp"

namespace pagedserve::kernels {

struct KvCacheSpec {
  int num_blocks = 0;
  int num_layers = 0;
  int num_kv_heads = 0;
  int block_size = 16;
  int head_size = 0;
  DType dtype = DType::f32;

  // Elements of K (or V) of one layer of one block.
  std::size_t elems_per_block_layer_kv() const {
    return static_cast<std::size_t>(num_kv_heads) * block_size * head_size;
  }
  std::size_t elems_per_block() const { return elems_per_block_layer_kv() * 2 * num_layers; }
  std::size_t bytes_per_block() const { return elems_per_block() * dtype_size(dtype); }
  std::size_t total_bytes() const { return bytes_per_block() * static_cast<std::size_t>(num_blocks); }
  // Element offset of K (kv = 0) or V (kv = 1) of `layer` inside block `block`
  // (64-bit before multiplying: pools exceed 2^31 elements).
  std::size_t offset(std::int64_t block, int layer, int kv) const {
    return static_cast<std::size_t>(block) * elems_per_block() +
           (static_cast<std::size_t>(layer) * 2 + kv) * elems_per_block_layer_kv();
  }
};

// A KV pool owned by a backend: device memory for the GPU pool, (pinned)
// host memory for the CPU swap pool.
struct KvCache {
  KvCacheSpec spec;
  Buffer buffer;
  bool on_host = true;
  void* data() const { return buffer.get(); }
};

// Copy physical block `src` to `dst` (copy-on-write inside one pool, or a
// swap between two pools), as the block manager plans it.
using memory::BlockCopy;

}  // namespace pagedserve::kernels
