// The executor actor: one per device. Owns the StepExecutor (backend, model,
// KV pools and sampler states) through its StepThread, which runs each plan
// on a thread of its own; the actor hands plans over and sends the results
// to the actor it was connected to (the scheduler, or the rank group of a
// split model: actors/rank_group.hpp), in order.
//
// A step that throws may have run part of its plan (a swap, a copy, some
// K/V written): the KV cache is in an unknown state, so the actor ends with
// `step_failed` and the engine is dead. A plan is never retried.
//
// It monitors the actor it serves and ends with it: in a worker process
// that frees the KV cache when the server goes away (or its link is lost),
// so the worker can serve the next one. Ending joins the step thread after
// the step in progress, so the device memory is free before the actor's
// monitors hear of its end.

#include "actors/runtime.hpp"
#include "actors/step_thread.hpp"

namespace pagedserve::actors {

namespace {

struct ExecutorState {
  std::unique_ptr<StepThread> steps;
  step_results_actor results;  // the scheduler, or a rank group
  std::string armed_failure;  // a test's: thrown at the next step
  static inline const char* name = "executor";
};

// Results reach the actor through a weak handle: the step thread must not
// keep the actor that owns it alive.
std::unique_ptr<StepThread> start_steps(executor_actor::stateful_pointer<ExecutorState> self,
                                        std::shared_ptr<engine::StepExecutor> exec) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self->ctrl());
  auto deliver = [weak](auto&&... xs) {
    if (auto strong = weak.lock()) caf::anon_send(caf::actor_cast<executor_actor>(strong), std::move(xs)...);
  };
  return std::make_unique<StepThread>(
      std::move(exec), [deliver](engine::StepResult r) { deliver(executed_atom_v, std::move(r)); },
      [deliver](const std::string& what) { deliver(step_failed_atom_v, what); });
}

executor_actor::behavior_type executor(executor_actor::stateful_pointer<ExecutorState> self,
                                       std::shared_ptr<engine::StepExecutor> exec) {
  self->state.steps = start_steps(self, std::move(exec));
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::step_failed, e); });
  self->set_down_handler([self](caf::down_msg& down) { self->quit(down.reason); });
  return {
      [=](connect_atom, step_results_actor results) {
        self->monitor(results);
        self->state.results = std::move(results);
      },
      [=](execute_atom, engine::StepPlan& plan) {
        auto& st = self->state;
        if (!st.armed_failure.empty()) throw std::runtime_error(st.armed_failure);
        st.steps->post(std::move(plan));
      },
      [=](executed_atom, engine::StepResult& result) {
        self->send(self->state.results, executed_atom_v, std::move(result));
      },
      [=](step_failed_atom, const std::string& what) {
        throw std::runtime_error(what);
      },
      [=](fail_atom, const std::string& why) { self->state.armed_failure = why; },
  };
}

}  // namespace

executor_actor spawn_executor(caf::actor_system& system, std::shared_ptr<engine::StepExecutor> exec) {
  return system.spawn(executor, std::move(exec));
}

}  // namespace pagedserve::actors
