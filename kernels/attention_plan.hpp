#pragma once
// The index math of the paged decode attention kernel (kernels/cuda), as
// plain functions both the kernel and host tests call: where a key lives in
// the block-major pool, which keys a split-K partition covers, which KV head
// a query head reads, and how partial results combine. Host tests run the
// kernel's whole decomposition through these against the CPU backend.

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kv_cache.hpp"
#include "kernels/synthetic.hpp"  // PS_HOST_DEVICE

namespace pagedserve::kernels::attention {

// Query heads h of one GQA group share KV head h / group.
PS_HOST_DEVICE inline int kv_head_of(int head, int heads, int kv_heads) { return head / (heads / kv_heads); }

// The number of split-K partitions of `partition` keys for a context.
PS_HOST_DEVICE inline int num_partitions(int context, int partition) {
  return context <= 0 ? 1 : (context + partition - 1) / partition;
}

// Few queries over long contexts leave most of the GPU idle with the
// configured partition (one sequence, 8 KV heads, 4k keys in 512-key
// partitions: 64 thread blocks for 132 multiprocessors). Then the keys are
// split finer, down to kMinPartition, until about `target_blocks` blocks run.
// Never coarser than configured, so the workspace bound stays the
// configured one's.
constexpr int kMinPartition = 64;
inline int split_partition(int num_tokens, int kv_heads, int max_context, int partition, int target_blocks) {
  const long long per_partition = static_cast<long long>(num_tokens) * kv_heads;
  if (per_partition <= 0 || partition <= kMinPartition ||
      per_partition * num_partitions(max_context, partition) >= target_blocks)
    return partition;
  const long long parts = (target_blocks + per_partition - 1) / per_partition;
  long long keys = (max_context + parts - 1) / parts;
  keys = (keys + 15) / 16 * 16;
  return static_cast<int>(keys < kMinPartition ? kMinPartition : keys > partition ? partition : keys);
}

// Keys [first, last) of partition `part` of a query at `position` (it sees
// keys 0..position); first >= last when the partition lies past it.
struct KeyRange {
  int first = 0, last = 0;
};
PS_HOST_DEVICE inline KeyRange partition_keys(int position, int part, int partition) {
  const int first = part * partition;
  const int end = first + partition;
  return {first, end < position + 1 ? end : position + 1};
}

// Element offset of key `token` of KV head `kv_head` in the pool, through
// the sequence's block table: the K (or V) row of head_size elements.
//   pool [num_blocks][layers][2][kv_heads][block_size][head_size]
struct PoolGeometry {
  std::int64_t block_stride = 0;  // elements per physical block (all layers)
  std::int64_t kv_offset = 0;     // K or V of the layer inside a block
  int block_size = 0, head_size = 0;
  int block_shift = -1;           // log2(block_size) when a power of two: shifts, not divisions
};
PS_HOST_DEVICE inline std::int64_t key_offset(const PoolGeometry& g, const std::int32_t* table, int token, int kv_head) {
  const bool shift = g.block_shift >= 0;
  const int logical = shift ? token >> g.block_shift : token / g.block_size;
  const int in_block = shift ? token & (g.block_size - 1) : token % g.block_size;
  const std::int64_t block = table[logical];
  return block * g.block_stride + g.kv_offset + (static_cast<std::int64_t>(kv_head) * g.block_size + in_block) * g.head_size;
}
// K (kv = 0) or V (kv = 1) of `layer` in a pool of `spec`.
inline PoolGeometry pool_geometry(const KvCacheSpec& spec, int layer, int kv) {
  PoolGeometry g{static_cast<std::int64_t>(spec.elems_per_block()), static_cast<std::int64_t>(spec.offset(0, layer, kv)),
                 spec.block_size, spec.head_size};
  for (int s = 0; s < 31; ++s)
    if ((1 << s) == spec.block_size) g.block_shift = s;
  return g;
}

// The vectorised kernel reads 16 bytes per lane; a K row of head_size
// elements spans head_size / (16 / element size) lanes: 8, 16 or 32 (head
// size 64, 128 or 256 in fp16/bf16; 64 or 128 in fp32). Groups of up to 8
// query heads per KV head keep their accumulators in registers. Other
// shapes use the simple kernel.
PS_HOST_DEVICE inline int fast_decode_lanes(int head_size, int element_bytes) {
  const int per_vector = 16 / element_bytes;
  return head_size % per_vector == 0 ? head_size / per_vector : 0;
}
PS_HOST_DEVICE inline bool fast_decode_supported(int head_size, int element_bytes, int group) {
  const int lanes = fast_decode_lanes(head_size, element_bytes);
  return (lanes == 8 || lanes == 16 || lanes == 32) && group >= 1 && group <= 8;
}

// Prefill: a sequence that brings at least kTiledMinRows new tokens has
// them computed by the tiled tensor-core kernel, kTileRows query rows at a
// time; the decode kernel (and its split-K reduction) skips those tokens.
constexpr int kTiledMinRows = 2;
constexpr int kTileRows = 64;
PS_HOST_DEVICE inline bool tiled(int query_len) { return query_len >= kTiledMinRows; }

// Up to kTileRows consecutive new tokens of one sequence.
struct PrefillTile {
  std::int32_t seq = 0, first_token = 0, rows = 0;
};

// The tiles covering every token of every tiled sequence once, from the
// batch's query_start prefix sums.
inline std::vector<PrefillTile> prefill_tiles(std::span<const std::int32_t> query_start) {
  std::vector<PrefillTile> tiles;
  for (std::size_t s = 0; s + 1 < query_start.size(); ++s) {
    const int first = query_start[s], len = query_start[s + 1] - first;
    if (!tiled(len)) continue;
    for (int r = 0; r < len; r += kTileRows)
      tiles.push_back({static_cast<std::int32_t>(s), first + r, len - r < kTileRows ? len - r : kTileRows});
  }
  return tiles;
}

}  // namespace pagedserve::kernels::attention
