#pragma once
// One rank of a model split over worker processes, in its worker: its Gloo
// connections to the other ranks (a tensor-parallel mesh with the ranks of
// its stage, a pipeline link to each neighbouring stage), met through the
// server's rendezvous actor, and the rank's executor, built by the same
// code as a rank that is a thread (actors::build_rank).

#include <caf/all.hpp>

#include "actors/engine_start.hpp"
#include "actors/protocol.hpp"

namespace pagedserve::actors {

// Blocks until every rank of the split has met in `rendezvous` (or the
// Gloo timeout passes: std::runtime_error). `config` carries the split
// (tensor_parallel_size, pipeline_parallel_size); `gloo_host` is the
// address the rank's connections listen on. The executor owns its Gloo
// connections; a step that fails on it closes them, so the other ranks'
// steps fail at once instead of waiting for this one.
BuiltExecutor build_worker_rank(caf::actor_system& system, const EngineConfig& config, const model::LoadedModel& loaded,
                                int rank, const rendezvous_actor& rendezvous, const std::string& gloo_host,
                                int max_model_len, std::shared_ptr<const grammar::Vocabulary> vocabulary);

}  // namespace pagedserve::actors
