#pragma once
// Taking the admin views' snapshots (actors/admin_snapshot.hpp) from the
// plain engine state, in the actor that owns it: the block manager's
// ("seqs", "seq/<id>", "pool", "prefix") and the scheduler's ("queues",
// "counters").

#include <optional>
#include <vector>

#include "actors/admin_snapshot.hpp"
#include "actors/protocol.hpp"
#include "engine/scheduler.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::actors {

// Who owns each live sequence, in queue order.
std::vector<SeqOwner> seq_owners(const engine::Scheduler& scheduler);

// The block manager's views ("seqs", "seq/<id>", "pool", "prefix"); `owners`
// name the sequences. nullopt for the scheduler's.
std::optional<AdminSnapshot> block_snapshot(const AdminQuery& query, const memory::BlockManager& blocks,
                                            const std::vector<SeqOwner>& owners);
// The scheduler's views ("queues", "counters"); nullopt for the block manager's.
std::optional<AdminSnapshot> scheduler_snapshot(const AdminQuery& query, const engine::Scheduler& scheduler);

}  // namespace pagedserve::actors
