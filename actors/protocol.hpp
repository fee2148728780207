#pragma once
// Every message of the actor runtime, the type-ID block and the actors'
// interfaces, in one place. One step:
//
//   [scheduler] --plan(MemoryRequest)--> [block manager]
//   [block manager] --MemoryGrant (the answer)--> [scheduler]
//   [block manager] --execute(StepPlan)--> [executor]
//   [executor] --executed(StepResult)--> [scheduler]
//   [scheduler] --events--> [router] --> RequestSinks
//
// Everything that crosses is a value with an `inspect` overload
// (actors/inspect.hpp), so it can cross a process boundary too. The one
// exception is SubmitMsg, from the facade to the router in the same
// process: it carries the request's sink, a callback into the caller.
//
// Failures are typed: a caf::error of the `pagedserve` category
// (engine_errc). An actor whose state is no longer known quits with one;
// the scheduler monitors the others and ends the engine (actors/supervision).

#include <caf/all.hpp>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "actors/inspect.hpp"

namespace pagedserve::actors {

// Why the engine stopped working.
enum class engine_errc : std::uint8_t {
  step_failed = 1,    // the executor threw: the KV cache is in an unknown state
  planning_failed,    // the block manager threw: the pools are in an unknown state
  scheduling_failed,  // the scheduler threw: the queues are in an unknown state
  delivery_failed,    // the router threw
};
std::string to_string(engine_errc x);

// From the facade to the router: the request and where its events go.
struct SubmitMsg {
  GenerateRequest request;
  std::shared_ptr<RequestSink> sink;
};
// The sink is a callback into the facade's caller and never leaves the
// process; only the request is serialized.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SubmitMsg& x) {
  return f(caf::meta::type_name("SubmitMsg"), x.request);
}

struct BlockStats {
  memory::BlockManagerStats stats;
  int peak_gpu_blocks_used = 0;  // since start
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BlockStats& x) {
  return f(caf::meta::type_name("BlockStats"), x.stats, x.peak_gpu_blocks_used);
}

// Who owns each sequence, for the block manager's admin views.
struct SeqOwner {
  engine::SeqId seq_id = 0;
  std::string request_id;
  int index = 0;
  std::string status;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SeqOwner& x) {
  return f(caf::meta::type_name("SeqOwner"), x.seq_id, x.request_id, x.index, x.status);
}

using EventList = std::vector<engine::Event>;
using SeqOwnerList = std::vector<SeqOwner>;

}  // namespace pagedserve::actors

CAF_ERROR_CODE_ENUM(pagedserve::actors::engine_errc, "pagedserve")

CAF_BEGIN_TYPE_ID_BLOCK(pagedserve, caf::first_custom_type_id)
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, step_atom, "step")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, plan_atom, "plan")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, execute_atom, "execute")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, executed_atom, "executed")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, submit_atom, "submit")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_atom, "cancel")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_all_atom, "cancelall")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, events_atom, "events")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, metrics_atom, "metrics")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, stats_atom, "stats")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, admin_atom, "admin")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, connect_atom, "connect")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, ping_atom, "ping")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, fail_atom, "fail")
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::MemoryRequest))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::MemoryGrant))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::StepPlan))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::StepResult))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::GenerateRequest))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SubmitMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::EventList))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::EngineMetrics))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::BlockStats))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SeqOwnerList))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::engine_errc))
CAF_END_TYPE_ID_BLOCK(pagedserve)

namespace pagedserve::actors {

// The scheduler: the queues, the policy, output processing, the step loop.
using scheduler_actor = caf::typed_actor<
    caf::reacts_to<step_atom>,
    caf::reacts_to<executed_atom, engine::StepResult>,
    caf::reacts_to<submit_atom, GenerateRequest>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<cancel_all_atom>,
    caf::replies_to<metrics_atom>::with<EngineMetrics>,
    caf::replies_to<admin_atom, std::string>::with<std::string>,
    caf::replies_to<ping_atom>::with<bool>,
    caf::reacts_to<fail_atom, std::string>>;

// One device's KV cache and model; its results go to the scheduler it was
// connected to.
using executor_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, scheduler_actor>,
    caf::reacts_to<execute_atom, engine::StepPlan>,
    caf::reacts_to<fail_atom, std::string>>;

// The pools: grants each step's memory and hands its plan to the executor.
using block_manager_actor = caf::typed_actor<
    caf::replies_to<plan_atom, engine::MemoryRequest>::with<engine::MemoryGrant>,
    caf::replies_to<stats_atom>::with<BlockStats>,
    caf::replies_to<admin_atom, std::string, SeqOwnerList>::with<std::string>,
    caf::reacts_to<fail_atom, std::string>>;

using router_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, scheduler_actor>,
    caf::reacts_to<connect_atom, block_manager_actor, executor_actor>,
    caf::reacts_to<submit_atom, SubmitMsg>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<events_atom, EventList>,
    caf::reacts_to<fail_atom, std::string>>;

}  // namespace pagedserve::actors
