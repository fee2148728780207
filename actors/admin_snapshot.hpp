#pragma once
// What the admin console shows, as plain values: each view is a snapshot
// taken by the actor that owns the state (the block manager's block tables,
// pools and prefix cache; the scheduler's queues and counters) and returned
// as a message. They carry no JSON: net/admin_json writes that.
//
// Their CAF `inspect` overloads are in actors/inspect.hpp, with the other
// messages', so this header stays free of CAF.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "engine/scheduler.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::actors {

enum class AdminView : std::uint8_t { seqs, seq, pool, prefix, queues, counters };

// Which view; `seq_id` names the sequence of AdminView::seq.
struct AdminQuery {
  AdminView view = AdminView::seqs;
  memory::SeqId seq_id = 0;
};

// One physical block of a pool. Shared when ref_count > 1; cached when it
// holds a prefix-cache hash.
struct BlockSnapshot {
  std::int32_t id = 0;
  std::int32_t ref_count = 0;
  bool cached = false;
};

// A live sequence with blocks: who owns it, where its blocks are, its table.
struct SeqSnapshot {
  memory::SeqId seq_id = 0;
  std::string request_id;
  int index = 0;  // the sample's index in its request
  std::string status;
  bool on_gpu = true;
  int num_tokens = 0;
  int num_computed = 0;
  std::vector<BlockSnapshot> blocks;  // logical block i at [i]
};

// Every live sequence that holds blocks, in queue order.
struct SeqsSnapshot {
  int block_size = 0;
  std::vector<SeqSnapshot> seqs;
};

// Both pools: their counts, and each block's ref_count by block id.
struct PoolsSnapshot {
  int block_size = 0;
  memory::BlockManagerStats stats;
  std::vector<std::int32_t> gpu_ref_counts;
  std::vector<std::int32_t> cpu_ref_counts;
};

// The GPU pool's prefix cache: its hit counts and the blocks it holds.
struct PrefixCacheSnapshot {
  bool enabled = false;
  int num_cached_blocks = 0;
  std::int64_t queries = 0;
  std::int64_t hits = 0;
  std::vector<BlockSnapshot> blocks;  // by block id
};

// A request in one of the scheduler's queues.
struct QueuedRequest {
  std::string request_id;
  int priority = 0;
  int num_seqs = 0;  // live ones
  int prompt_tokens = 0;
};

struct QueuesSnapshot {
  std::vector<QueuedRequest> running, swapped, waiting;
};

// The query named a sequence that is not live (or holds no blocks).
struct NotLive {
  memory::SeqId seq_id = 0;
};

// One view's answer: the alternative its AdminQuery::view asks for
// (AdminView::counters: the scheduler's counters), or NotLive.
struct AdminSnapshot {
  std::variant<NotLive, SeqsSnapshot, SeqSnapshot, PoolsSnapshot, PrefixCacheSnapshot, QueuesSnapshot,
               engine::SchedulerCounters>
      view;
};

}  // namespace pagedserve::actors
