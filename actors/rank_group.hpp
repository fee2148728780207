#pragma once
// The executor of a model split over worker processes, as the server sees
// it: one executor_actor in front of every rank's (one per worker, in rank
// order). Each plan goes to every rank; each rank runs its shard and its
// stage (its collectives and pipeline links run over Gloo between the
// workers, not through here) and answers every step in order. Once every
// rank has answered a step, the result of the first rank of the last
// stage goes to the scheduler, after the other ranks of that stage were
// checked to have drawn the same tokens (they sample the same logits with
// the same seeds); the earlier stages' answers are empty, and only say
// the step went through.
//
// The group monitors every rank and the scheduler: a rank that ends (its
// step failed, or its worker's link was lost) ends the group with
// `rank_failed` naming it, and so the engine; the group's end ends every
// rank's executor.

#include <caf/all.hpp>
#include <string>
#include <vector>

#include "actors/protocol.hpp"

namespace pagedserve::actors {

struct RankExecutor {
  executor_actor executor;
  std::string where;  // the worker's HOST:PORT, for messages
};

// `ranks` in rank order; ranks [first_sampling_rank, end) sample.
executor_actor spawn_rank_group(caf::actor_system& system, std::vector<RankExecutor> ranks, int first_sampling_rank);

}  // namespace pagedserve::actors
