#include "memory/block_pool.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pagedserve::memory {

BlockPool::BlockPool(int num_blocks) {
  if (num_blocks < 0) throw std::invalid_argument("a block pool needs a non-negative block count");
  blocks_.resize(num_blocks);
  for (int i = 0; i < num_blocks; ++i) {
    blocks_[i].block_id = i;
    push_free_tail(i);
  }
}

std::int32_t BlockPool::allocate() {
  if (free_head_ < 0) throw std::logic_error("block pool exhausted: check num_free() before allocate()");
  std::int32_t id = free_head_;
  unlink_free(id);
  Block& b = blocks_[id];
  evict_hash(b);
  b.ref_count = 1;
  return id;
}

void BlockPool::add_ref(std::int32_t block_id) {
  Block& b = blocks_.at(block_id);
  if (b.ref_count <= 0) throw std::logic_error("add_ref on a free block " + std::to_string(block_id));
  ++b.ref_count;
}

void BlockPool::release(std::int32_t block_id) {
  Block& b = blocks_.at(block_id);
  if (b.ref_count <= 0) throw std::logic_error("release of a free block " + std::to_string(block_id));
  if (--b.ref_count == 0) push_free_tail(block_id);
}

std::optional<std::int32_t> BlockPool::lookup(BlockHash hash, BlockHash parent,
                                              std::span<const std::int32_t> tokens) const {
  auto it = hash_to_block_.find(hash);
  if (it == hash_to_block_.end()) return std::nullopt;
  const Block& b = blocks_[it->second];
  if (b.parent_hash != parent || !std::equal(tokens.begin(), tokens.end(), b.token_ids.begin(), b.token_ids.end()))
    return std::nullopt;  // a hash collision (keyed: chance only): a miss
  return it->second;
}

bool BlockPool::insert_cached(std::int32_t block_id, BlockHash hash, BlockHash parent,
                              std::span<const std::int32_t> tokens) {
  Block& b = blocks_.at(block_id);
  if (b.hash || hash_to_block_.count(hash)) return false;
  hash_to_block_.emplace(hash, block_id);
  b.hash = hash;
  b.parent_hash = parent;
  b.token_ids.assign(tokens.begin(), tokens.end());
  return true;
}

void BlockPool::acquire_cached(std::int32_t block_id) {
  Block& b = blocks_.at(block_id);
  if (b.ref_count == 0) unlink_free(block_id);
  ++b.ref_count;
}

void BlockPool::push_free_tail(std::int32_t block_id) {
  Block& b = blocks_[block_id];
  b.prev_free = free_tail_;
  b.next_free = -1;
  if (free_tail_ >= 0) blocks_[free_tail_].next_free = block_id;
  else free_head_ = block_id;
  free_tail_ = block_id;
  b.in_free_queue = true;
  ++num_free_;
}

void BlockPool::unlink_free(std::int32_t block_id) {
  Block& b = blocks_[block_id];
  if (b.prev_free >= 0) blocks_[b.prev_free].next_free = b.next_free;
  else free_head_ = b.next_free;
  if (b.next_free >= 0) blocks_[b.next_free].prev_free = b.prev_free;
  else free_tail_ = b.prev_free;
  b.prev_free = b.next_free = -1;
  b.in_free_queue = false;
  --num_free_;
}

void BlockPool::evict_hash(Block& b) {
  if (!b.hash) return;
  hash_to_block_.erase(*b.hash);
  b.hash.reset();
  b.token_ids.clear();
}

}  // namespace pagedserve::memory
