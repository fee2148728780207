#pragma once
// A pool of fixed-size KV blocks: reference counts, an O(1) free queue in
// LRU order, and the prefix cache index over full blocks.
//
// The free queue is an intrusive doubly linked list threaded through the
// blocks themselves (no allocation per operation, O(1) removal from the
// middle). Blocks freed last go to the tail; allocation takes the head, so
// the least recently used block is evicted first.
//
//   head -> [b7 cached] <-> [b2] <-> [b9 cached] <- tail
//
// A freed block that holds a cached prefix stays in the queue with its hash
// and ref_count 0; a later prefix hit takes it back out (O(1)); allocation
// evicts its hash lazily, only when its memory is needed.
//
// Invariants: a block is in the free queue iff ref_count == 0; num_free()
// equals the queue's length; hash_to_block_ and the blocks' hashes agree.

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "memory/block_hash.hpp"

namespace pagedserve::memory {

struct Block {
  std::int32_t block_id = 0;
  std::int32_t ref_count = 0;
  std::optional<BlockHash> hash;       // set while the block is in the prefix cache
  BlockHash parent_hash = 0;           // confirms a hit together with token_ids
  std::vector<std::int32_t> token_ids; // the tokens hashed (cached blocks only)
  std::int32_t prev_free = -1;         // free-queue links, -1 = none
  std::int32_t next_free = -1;
  bool in_free_queue = false;
};

class BlockPool {
 public:
  explicit BlockPool(int num_blocks);

  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  int num_free() const { return num_free_; }
  int num_used() const { return num_blocks() - num_free_; }
  int num_cached() const { return static_cast<int>(hash_to_block_.size()); }
  const Block& block(std::int32_t block_id) const { return blocks_.at(block_id); }

  // Takes the least recently used free block (evicting its cached prefix)
  // with ref_count 1. The caller checks num_free() first.
  std::int32_t allocate();
  void add_ref(std::int32_t block_id);
  // Drops one reference; at zero the block joins the tail of the free queue.
  void release(std::int32_t block_id);

  // --- prefix cache -----------------------------------------------------------
  // The cached block with this hash, confirmed by parent hash and tokens.
  std::optional<std::int32_t> lookup(BlockHash hash, BlockHash parent,
                                     std::span<const std::int32_t> tokens) const;
  // Registers a full, computed block; false if another block already holds it.
  bool insert_cached(std::int32_t block_id, BlockHash hash, BlockHash parent,
                     std::span<const std::int32_t> tokens);
  // Takes a reference to a cached block, reviving it if it was free.
  void acquire_cached(std::int32_t block_id);

 private:
  void push_free_tail(std::int32_t block_id);
  void unlink_free(std::int32_t block_id);
  void evict_hash(Block& b);

  std::vector<Block> blocks_;
  std::int32_t free_head_ = -1;
  std::int32_t free_tail_ = -1;
  int num_free_ = 0;
  std::unordered_map<BlockHash, std::int32_t> hash_to_block_;
};

}  // namespace pagedserve::memory
