#pragma once
// The admin console's views as JSON: the view names of /admin/<view> to
// the engine's typed queries, and the actors' snapshots to the JSON the
// console and the /admin/ page read.

#include <optional>
#include <string>
#include <string_view>

#include "actors/admin_snapshot.hpp"

namespace pagedserve::net {

// "seqs", "seq/<id>", "pool", "prefix", "queues", "counters" (routes.cpp's
// view names); nullopt for any other, and for an id not written as the
// engine writes ids (no sign, no leading zero).
std::optional<actors::AdminQuery> admin_query(std::string_view view);

// The snapshot as its view's JSON object. NotLive has none: nullopt.
std::optional<std::string> admin_json(const actors::AdminSnapshot& snapshot);

}  // namespace pagedserve::net
