#pragma once
// Every message of the actor runtime and the type-ID block, in one place.
//
//   facade --submit/cancel--> [router] --submit/cancel--> [scheduler]
//   [scheduler] --plan (lends the Scheduler)--> [block manager]
//   [block manager] --planned (the Scheduler back)--> [scheduler]
//   [block manager] --execute (StepPlan, delegated)--> [executor]
//   [executor] --StepResult (the answer to plan)--> [scheduler]
//   [scheduler] --events--> [router] --> RequestSinks
//
// A step costs three hops on its critical path: the block manager hands the
// plan straight to the executor, whose answer goes to the scheduler's
// original `plan` request.
//
// Heavy payloads travel as shared pointers: the sender gives its copy up,
// so exactly one actor touches a payload at a time. The scheduling policy
// itself (engine::Scheduler) is lent to the block manager for one plan and
// comes back in the reply; the scheduler actor never touches it meanwhile.

#include <caf/all.hpp>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "engine/engine_core.hpp"

namespace pagedserve::actors {

// The scheduling policy on loan for one plan.
struct PlanRequest {
  std::shared_ptr<engine::Scheduler> scheduler;
  std::uint64_t step_id = 0;
};

// The policy back, with the step's SchedulerOutput; `error` when planning
// threw (a bug).
struct PlanReply {
  std::shared_ptr<engine::Scheduler> scheduler;
  engine::PlannedStep step;
  std::string error;
};

struct StepPlanMsg {
  std::shared_ptr<const engine::StepPlan> plan;
};

// The sampled tokens; no result when the plan had nothing to run, and
// `error` when the step could not run.
struct StepResultMsg {
  std::shared_ptr<engine::StepResult> result;
  std::string error;
};

struct SubmitMsg {
  std::shared_ptr<GenerateRequest> request;
  std::shared_ptr<RequestSink> sink;  // dropped by the router once registered
};

struct EventsMsg {
  std::shared_ptr<std::vector<engine::Event>> events;
};

struct MetricsMsg {
  std::shared_ptr<EngineMetrics> metrics;
};

struct BlockStatsMsg {
  std::shared_ptr<memory::BlockManagerStats> stats;
  int peak_gpu_blocks_used = 0;  // since start
};

// Who owns each sequence, for the block manager's admin views.
struct SeqOwner {
  engine::SeqId seq_id = 0;
  std::string request_id;
  int index = 0;
  std::string status;
};
struct SeqOwnersMsg {
  std::shared_ptr<std::vector<SeqOwner>> owners;
};

// Local-only messages: nothing to serialize beyond their names.
#define PAGEDSERVE_LOCAL_MESSAGE(T)                                    \
  template <class Inspector>                                           \
  typename Inspector::result_type inspect(Inspector& f, T&) {          \
    return f(caf::meta::type_name(#T));                                \
  }
PAGEDSERVE_LOCAL_MESSAGE(PlanRequest)
PAGEDSERVE_LOCAL_MESSAGE(PlanReply)
PAGEDSERVE_LOCAL_MESSAGE(StepPlanMsg)
PAGEDSERVE_LOCAL_MESSAGE(StepResultMsg)
PAGEDSERVE_LOCAL_MESSAGE(SubmitMsg)
PAGEDSERVE_LOCAL_MESSAGE(EventsMsg)
PAGEDSERVE_LOCAL_MESSAGE(MetricsMsg)
PAGEDSERVE_LOCAL_MESSAGE(BlockStatsMsg)
PAGEDSERVE_LOCAL_MESSAGE(SeqOwnersMsg)
#undef PAGEDSERVE_LOCAL_MESSAGE

}  // namespace pagedserve::actors

CAF_BEGIN_TYPE_ID_BLOCK(pagedserve, caf::first_custom_type_id)
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, step_atom, "step")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, plan_atom, "plan")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, planned_atom, "planned")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, execute_atom, "execute")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, submit_atom, "submit")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_atom, "cancel")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_all_atom, "cancelall")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, events_atom, "events")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, metrics_atom, "metrics")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, stats_atom, "stats")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, admin_atom, "admin")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, connect_atom, "connect")
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::PlanRequest))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::PlanReply))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::StepPlanMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::StepResultMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SubmitMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::EventsMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::MetricsMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::BlockStatsMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SeqOwnersMsg))
CAF_END_TYPE_ID_BLOCK(pagedserve)

namespace pagedserve::actors {

// The actors' interfaces.
using executor_actor = caf::typed_actor<caf::replies_to<execute_atom, StepPlanMsg>::with<StepResultMsg>>;

using block_manager_actor = caf::typed_actor<
    caf::replies_to<plan_atom, PlanRequest>::with<StepResultMsg>,
    caf::replies_to<stats_atom>::with<BlockStatsMsg>,
    caf::replies_to<admin_atom, std::string, SeqOwnersMsg>::with<std::string>>;

using scheduler_actor = caf::typed_actor<
    caf::reacts_to<step_atom>,
    caf::reacts_to<planned_atom, PlanReply>,
    caf::reacts_to<submit_atom, SubmitMsg>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<cancel_all_atom>,
    caf::replies_to<metrics_atom>::with<MetricsMsg>,
    caf::replies_to<admin_atom, std::string>::with<std::string>>;

using router_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, scheduler_actor>,
    caf::reacts_to<submit_atom, SubmitMsg>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<events_atom, EventsMsg>>;

}  // namespace pagedserve::actors
