#pragma once
// The scheduler actor: owns the scheduling policy (engine::Scheduler with
// its SequenceGroups) and output processing, and drives the step loop by
// sending itself `step`:
//
//   step -> lend the Scheduler to the block manager (plan)
//        -> planned: the Scheduler back, with the step's SchedulerOutput;
//           events of the plan (refusals, RequestDone) to the router
//        -> (the block manager gave the StepPlan to the executor)
//        -> StepResult, the answer to plan -> output processing
//        -> token events to the router -> step
//
// While the executor runs step t the Scheduler is home again: submissions,
// cancels and admin queries are served at once, and the router delivers
// step t-1's events to the sinks in parallel. While the Scheduler is lent
// (planning, microseconds) such messages wait in `deferred_`.
//
// Invariants: scheduler_ is null exactly while a plan is out; busy_ is true
// from lending until the step's result is processed; at most one step is in
// flight; the result is processed only with the Scheduler home (a result
// that overtakes `planned` waits in deferred_).

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "actors/runtime.hpp"

namespace pagedserve::actors {

class SchedulerState {
 public:
  explicit SchedulerState(scheduler_actor::pointer self) : self_(self) {}
  static inline const char* name = "scheduler";

  void init(SchedulerActorConfig config, router_actor router, block_manager_actor blocks, executor_actor executor);
  void submit(SubmitMsg& msg);
  void cancel(const std::string& request_id);
  void cancel_all();
  void step();
  void planned(PlanReply& reply);
  caf::typed_response_promise<MetricsMsg> metrics();
  caf::typed_response_promise<std::string> admin(const std::string& view);

 private:
  void when_home(std::function<void()> f);
  void kick();
  void on_executed(StepResultMsg& msg);
  void fail_all(const std::string& error);
  void publish(std::vector<engine::Event>& events);
  void fill_metrics(EngineMetrics& m, const BlockStatsMsg& blocks) const;

  scheduler_actor::pointer self_;
  SchedulerActorConfig config_;
  std::shared_ptr<engine::Scheduler> scheduler_;  // null while lent to the block manager
  std::unique_ptr<engine::OutputProcessor> outputs_;
  router_actor router_;
  block_manager_actor blocks_;
  executor_actor executor_;
  std::shared_ptr<engine::SchedulerOutput> in_flight_;  // the step the executor runs
  bool busy_ = false;
  bool step_queued_ = false;
  std::vector<std::function<void()>> deferred_;
  std::uint64_t next_step_id_ = 0;
  std::int64_t num_requests_finished_ = 0;
  std::int64_t num_tokens_generated_ = 0;
  std::deque<double> ttft_seconds_, inter_token_seconds_;  // the most recent samples
};

}  // namespace pagedserve::actors
