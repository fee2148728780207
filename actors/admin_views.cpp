#include "actors/admin_views.hpp"

namespace pagedserve::actors {

std::vector<SeqOwner> seq_owners(const engine::Scheduler& scheduler) {
  std::vector<SeqOwner> owners;
  for (const auto* q : {&scheduler.running(), &scheduler.swapped(), &scheduler.waiting()})
    for (const auto& g : *q)
      for (const auto& s : g->seqs)
        if (!s->is_finished()) owners.push_back({s->seq_id, g->request_id(), s->index, engine::status_name(s->status)});
  return owners;
}

namespace {

BlockSnapshot block_of(const memory::BlockPool& pool, std::int32_t id) {
  const auto& b = pool.block(id);
  return {id, b.ref_count, b.hash.has_value()};
}

SeqSnapshot seq_of(const memory::BlockManager& blocks, const SeqOwner& owner) {
  const bool on_gpu = blocks.location(owner.seq_id) == memory::Device::gpu;
  const auto& pool = on_gpu ? blocks.gpu_pool() : blocks.cpu_pool();
  std::vector<BlockSnapshot> table;
  for (auto id : blocks.block_table(owner.seq_id)) table.push_back(block_of(pool, id));
  return {owner.seq_id, owner.request_id, owner.index, owner.status, on_gpu, blocks.num_tokens(owner.seq_id),
          blocks.num_computed(owner.seq_id), std::move(table)};
}

SeqsSnapshot seqs_of(const memory::BlockManager& blocks, const std::vector<SeqOwner>& owners) {
  SeqsSnapshot out{blocks.block_size(), {}};
  for (const auto& s : owners)
    if (blocks.contains(s.seq_id)) out.seqs.push_back(seq_of(blocks, s));  // waiting ones hold no blocks yet
  return out;
}

AdminSnapshot one_seq_of(memory::SeqId seq_id, const memory::BlockManager& blocks, const std::vector<SeqOwner>& owners) {
  for (const auto& s : owners)
    if (s.seq_id == seq_id && blocks.contains(seq_id)) return {seq_of(blocks, s)};
  return {NotLive{seq_id}};
}

std::vector<std::int32_t> ref_counts(const memory::BlockPool& pool) {
  std::vector<std::int32_t> out;
  out.reserve(static_cast<std::size_t>(pool.num_blocks()));
  for (int i = 0; i < pool.num_blocks(); ++i) out.push_back(pool.block(i).ref_count);
  return out;
}

PoolsSnapshot pools_of(const memory::BlockManager& blocks) {
  return {blocks.block_size(), blocks.stats(), ref_counts(blocks.gpu_pool()), ref_counts(blocks.cpu_pool())};
}

PrefixCacheSnapshot prefix_cache_of(const memory::BlockManager& blocks) {
  const auto stats = blocks.stats();
  const auto& pool = blocks.gpu_pool();
  PrefixCacheSnapshot out{blocks.config().enable_prefix_caching, pool.num_cached(), stats.num_prefix_queries,
                          stats.num_prefix_hits, {}};
  for (int i = 0; i < pool.num_blocks(); ++i)
    if (pool.block(i).hash) out.blocks.push_back(block_of(pool, i));
  return out;
}

std::vector<QueuedRequest> queue_of(const std::deque<std::shared_ptr<engine::SequenceGroup>>& q) {
  std::vector<QueuedRequest> out;
  for (const auto& g : q) out.push_back({g->request_id(), g->priority(), g->num_live_seqs(), g->prompt_len()});
  return out;
}

}  // namespace

std::optional<AdminSnapshot> block_snapshot(const AdminQuery& query, const memory::BlockManager& blocks,
                                            const std::vector<SeqOwner>& owners) {
  switch (query.view) {
    case AdminView::seqs: return AdminSnapshot{seqs_of(blocks, owners)};
    case AdminView::seq: return one_seq_of(query.seq_id, blocks, owners);
    case AdminView::pool: return AdminSnapshot{pools_of(blocks)};
    case AdminView::prefix: return AdminSnapshot{prefix_cache_of(blocks)};
    default: return std::nullopt;
  }
}

std::optional<AdminSnapshot> scheduler_snapshot(const AdminQuery& query, const engine::Scheduler& scheduler) {
  if (query.view == AdminView::counters) return AdminSnapshot{scheduler.counters()};
  if (query.view != AdminView::queues) return std::nullopt;
  return AdminSnapshot{QueuesSnapshot{queue_of(scheduler.running()), queue_of(scheduler.swapped()),
                                      queue_of(scheduler.waiting())}};
}

}  // namespace pagedserve::actors
