#pragma once
// Read-only JSON views for the admin console, built from the plain engine
// state by the actor that owns it: the block manager's views ("seqs",
// "seq/<id>", "pool", "prefix") and the scheduler's ("queues", "counters").

#include <optional>
#include <string>
#include <vector>

#include "actors/protocol.hpp"
#include "engine/scheduler.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::actors {

// Who owns each live sequence, in queue order.
std::vector<SeqOwner> seq_owners(const engine::Scheduler& scheduler);

// "seqs", "seq/<id>", "pool", "prefix"; nullopt for any other view (or an unknown sequence).
std::optional<std::string> block_view(const std::string& view, const memory::BlockManager& blocks,
                                      const std::vector<SeqOwner>& owners);
// "queues", "counters"; nullopt for any other view.
std::optional<std::string> scheduler_view(const std::string& view, const engine::Scheduler& scheduler);

// A JSON string literal for `s` (quotes included).
std::string json_quote(const std::string& s);

}  // namespace pagedserve::actors
