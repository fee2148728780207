#pragma once
// The scheduler actor: owns the scheduling policy (engine::Scheduler with
// its SequenceGroups) and output processing, and drives the step loop by
// sending itself `step`:
//
//   step -> MemoryRequest to the block manager (plan)
//        -> MemoryGrant, the answer: the queues follow it; events of the
//           grant (refusals, RequestDone) to the router
//        -> (the block manager gave the StepPlan to the executor)
//        -> executed(StepResult) from the executor -> output processing
//        -> token events to the router -> step
//
// While the executor runs step t, submissions, cancels and admin queries
// are served at once. While a MemoryRequest is out (microseconds) such
// messages wait in `deferred_`: the grant names groups by their place in
// the request, so the queues must not change until it is applied.
//
// Invariants: at most one step in flight; granting_ is true from sending a
// request until its grant is applied; executing_ from a grant with work
// until its result is processed; in_flight_ holds that step's output.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actors/runtime.hpp"
#include "engine/output_processor.hpp"

namespace pagedserve::actors {

class SchedulerState {
 public:
  explicit SchedulerState(scheduler_actor::pointer self) : self_(self) {}
  static inline const char* name = "scheduler";

  void init(SchedulerActorConfig config, router_actor router, block_manager_actor blocks, executor_actor executor);
  void submit(GenerateRequest& request);
  void cancel(const std::string& request_id);
  void cancel_all();
  void step();
  void executed(engine::StepResult& result);
  caf::typed_response_promise<EngineMetrics> metrics();
  // An admin view's snapshot: the queues and counters here, the rest the
  // block manager's.
  caf::typed_response_promise<AdminSnapshot> admin(const AdminQuery& query);
  // Whether the engine makes progress: no step has been running for long.
  bool answers() const;
  void arm_failure(std::string why) { armed_failure_ = std::move(why); }
  void on_down(const caf::down_msg& down);

 private:
  void when_granted(std::function<void()> f);
  void kick();
  void granted(engine::MemoryGrant& grant);
  void publish(std::vector<engine::Event>& events);
  void fill_metrics(EngineMetrics& m, const BlockStats& blocks) const;

  scheduler_actor::pointer self_;
  SchedulerActorConfig config_;
  std::unique_ptr<engine::Scheduler> scheduler_;
  std::unique_ptr<engine::OutputProcessor> outputs_;
  router_actor router_;
  block_manager_actor blocks_;
  executor_actor executor_;
  std::optional<engine::SchedulerOutput> in_flight_;  // the step the executor runs
  std::uint64_t in_flight_step_id_ = 0;
  std::chrono::steady_clock::time_point in_flight_since_;
  bool granting_ = false;
  bool step_queued_ = false;
  std::vector<std::function<void()>> deferred_;
  std::uint64_t next_step_id_ = 0;
  std::int64_t num_requests_finished_ = 0;
  std::int64_t num_tokens_generated_ = 0;
  std::deque<double> ttft_seconds_, inter_token_seconds_;  // the most recent samples
  std::vector<std::int64_t> iteration_tokens_counts_ = std::vector<std::int64_t>(kIterationTokenBounds.size() + 1, 0);
  std::int64_t iteration_tokens_sum_ = 0;
  void count_iteration_tokens(int tokens);
  std::string armed_failure_;  // a test's: thrown at the next output processing
};

}  // namespace pagedserve::actors
