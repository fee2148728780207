#pragma once
// The block manager: the policy that maps every sequence's tokens onto
// fixed-size physical KV blocks in a GPU pool and a CPU swap pool.
//
// Invariants (checked by tests/memory/block_manager_test.cpp after every
// random operation):
//   - a block's ref_count equals the number of block tables holding it;
//   - free + used == total in each pool; no free block is referenced;
//   - a sequence of n tokens holds exactly ceil(n / block_size) blocks, all in
//     one pool (GPU while running, CPU while swapped out);
//   - a cached block's tokens are exactly the tokens it was hashed from.
//
//   seq 7 tokens: [t0 .. t15 | t16 .. t31 | t32 t33]      block_size 16
//   block table:  [   12     |     3      |   40   ]      logical -> physical
//   slot(33) = 40 * 16 + 1
//
// Usage is check-then-act: can_allocate / allocate, can_append / append,
// can_swap_in / swap_in, ... The act half throws std::logic_error when its
// check would have failed: that is a bug in the caller, never user input.
// Admission, which hashes the prompt, also has one call that can say no
// (try_allocate), so the prompt is hashed once.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "memory/block_copy.hpp"
#include "memory/block_pool.hpp"

namespace pagedserve::memory {

using SeqId = std::int64_t;

struct BlockManagerConfig {
  int block_size = 16;
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
  bool enable_prefix_caching = true;
  // Fraction of GPU blocks kept free at admission so running sequences can
  // grow without immediate preemption (avoids thrashing).
  double watermark = 0.01;
  int max_model_len = 0;  // 0: only the pool size limits a sequence

  int watermark_blocks() const { return static_cast<int>(watermark * num_gpu_blocks); }
  // The pool less the watermark: the most one request can ever hold.
  int num_usable_gpu_blocks() const { return num_gpu_blocks - watermark_blocks(); }
};

enum class AllocStatus { ok, later, never };

struct PoolStats {
  int num_total = 0;
  int num_free = 0;     // includes cached-evictable
  int num_used = 0;     // ref_count > 0
  int num_cached = 0;   // free but holding a reusable prefix
  int num_shared = 0;   // ref_count > 1
};

struct BlockManagerStats {
  PoolStats gpu;
  PoolStats cpu;
  std::int64_t num_token_slots = 0;   // used GPU blocks * block_size
  std::int64_t num_tokens_stored = 0; // slots holding a real token (shared blocks once)
  double utilization() const {
    return num_token_slots ? static_cast<double>(num_tokens_stored) / num_token_slots : 1.0;
  }
  std::int64_t num_cow_copies = 0;
  std::int64_t num_swapped_out_blocks = 0;
  std::int64_t num_swapped_in_blocks = 0;
  std::int64_t num_prefix_queries = 0;  // prompt blocks looked up
  std::int64_t num_prefix_hits = 0;     // of which found in the cache
};

enum class Device { gpu, cpu };

class BlockManager {
 public:
  explicit BlockManager(const BlockManagerConfig& config);

  const BlockManagerConfig& config() const { return config_; }
  int block_size() const { return config_.block_size; }

  // --- admission ------------------------------------------------------------
  // Why a request of this size can never run ("" when it can).
  std::string check_fits(std::int64_t prompt_len, std::int64_t max_new_tokens) const;
  AllocStatus can_allocate(std::span<const std::int32_t> prompt) const;
  // Registers `seq` with blocks for all of `prompt`, reusing the longest
  // cached prefix of full blocks (at least the last token is left to compute).
  // Returns how many leading tokens are already computed.
  int allocate(SeqId seq, std::span<const std::int32_t> prompt);
  // One call that can say no: allocates when can_allocate() would say ok,
  // hashing the prompt once for both. `num_cached_tokens` as allocate()'s.
  struct Allocation {
    AllocStatus status = AllocStatus::never;
    int num_cached_tokens = 0;
  };
  Allocation try_allocate(SeqId seq, std::span<const std::int32_t> prompt);

  // --- growth ---------------------------------------------------------------
  // Whether `num_tokens` more tokens fit (a new block, or a copy-on-write).
  bool can_append(SeqId seq, int num_tokens = 1) const;
  // Adds tokens whose K/V the next step writes. Returns the copy-on-write
  // instruction when the last block was shared.
  std::optional<BlockCopy> append(SeqId seq, std::span<const std::int32_t> tokens);
  // The first `num_computed` tokens of `seq` now have K/V in the pool: their
  // full blocks become reusable through the prefix cache.
  void mark_computed(SeqId seq, int num_computed);

  // --- sharing ----------------------------------------------------------------
  // `child` shares every block of `parent` (ref counts up).
  void fork(SeqId parent, SeqId child);
  // Drops `seq`; blocks whose count reaches 0 become free (cached ones stay
  // reusable until their memory is needed).
  void free(SeqId seq);

  // --- swapping ---------------------------------------------------------------
  // A group (the sequences of one request) moves as a whole, keeping sharing.
  bool can_swap_out(std::span<const SeqId> group) const;
  std::vector<BlockCopy> swap_out(std::span<const SeqId> group);  // GPU -> CPU
  AllocStatus can_swap_in(std::span<const SeqId> group) const;
  std::vector<BlockCopy> swap_in(std::span<const SeqId> group);   // CPU -> GPU

  // --- queries ------------------------------------------------------------------
  bool contains(SeqId seq) const { return seqs_.count(seq) > 0; }
  Device location(SeqId seq) const;
  const std::vector<std::int32_t>& block_table(SeqId seq) const;
  const std::vector<std::int32_t>& tokens(SeqId seq) const;
  int num_tokens(SeqId seq) const;
  int num_computed(SeqId seq) const;
  std::int64_t slot(SeqId seq, int position) const;
  std::vector<SeqId> seq_ids() const;
  int num_free_gpu_blocks() const { return gpu_.num_free(); }
  int num_free_cpu_blocks() const { return cpu_.num_free(); }
  const BlockPool& gpu_pool() const { return gpu_; }
  const BlockPool& cpu_pool() const { return cpu_; }
  BlockManagerStats stats() const;

 private:
  struct SeqState {
    std::vector<std::int32_t> tokens;  // every token that has (or gets) a slot
    std::vector<std::int32_t> blocks;  // logical -> physical
    Device device = Device::gpu;
    int num_computed = 0;
    std::vector<BlockHash> block_hashes;  // hashes of the leading full, computed blocks
  };

  SeqState& state(SeqId seq);
  const SeqState& state(SeqId seq) const;
  int blocks_for(std::int64_t num_tokens) const;
  // The cached blocks that hold a leading part of `prompt`, in order.
  std::vector<std::int32_t> find_cached_prefix(std::span<const std::int32_t> prompt) const;
  // can_allocate() once the prompt's cached prefix is known.
  AllocStatus room_for(std::span<const std::int32_t> prompt, const std::vector<std::int32_t>& hits) const;
  bool can_never_hold(std::span<const std::int32_t> prompt) const;
  int take_blocks(SeqId seq, std::span<const std::int32_t> prompt, const std::vector<std::int32_t>& hits);
  void register_computed_blocks(SeqState& s);
  BlockPool& pool(Device d) { return d == Device::gpu ? gpu_ : cpu_; }
  const BlockPool& pool(Device d) const { return d == Device::gpu ? gpu_ : cpu_; }
  int count_unique_blocks(std::span<const SeqId> group, Device on) const;
  std::vector<BlockCopy> move_group(std::span<const SeqId> group, Device from);

  BlockManagerConfig config_;
  BlockPool gpu_;
  BlockPool cpu_;
  std::unordered_map<SeqId, SeqState> seqs_;
  std::int64_t num_cow_copies_ = 0;
  std::int64_t num_swapped_out_blocks_ = 0;
  std::int64_t num_swapped_in_blocks_ = 0;
  std::int64_t num_prefix_queries_ = 0;
  std::int64_t num_prefix_hits_ = 0;
};

}  // namespace pagedserve::memory
