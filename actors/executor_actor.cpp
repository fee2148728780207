// The executor actor: one per device, on its own thread. A step is long and
// must not hold a scheduler worker, and the device wants one calling thread
// (the CPU backend's OpenMP team and a CUDA context belong to the thread
// that drives them). Owns the StepExecutor: backend, model, KV pools and
// sampler states. Results go to the scheduler it was connected to.
//
// A step that throws may have run part of its plan (a swap, a copy, some
// K/V written): the KV cache is in an unknown state, so the actor ends with
// `step_failed` and the engine is dead. A plan is never retried.
//
// It monitors the scheduler it serves and ends with it: in a worker process
// that frees the KV cache when the server goes away (or its link is lost),
// so the worker can serve the next one.

#include "actors/runtime.hpp"

namespace pagedserve::actors {

namespace {

struct ExecutorState {
  std::shared_ptr<engine::StepExecutor> executor;
  scheduler_actor results;
  std::string armed_failure;  // a test's: thrown at the next step
  static inline const char* name = "executor";
};

executor_actor::behavior_type executor(executor_actor::stateful_pointer<ExecutorState> self,
                                       std::shared_ptr<engine::StepExecutor> exec) {
  self->state.executor = std::move(exec);
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::step_failed, e); });
  self->set_down_handler([self](caf::down_msg& down) { self->quit(down.reason); });
  return {
      [=](connect_atom, scheduler_actor results) {
        self->monitor(results);
        self->state.results = std::move(results);
      },
      [=](execute_atom, const engine::StepPlan& plan) {
        auto& st = self->state;
        if (!st.armed_failure.empty()) throw std::runtime_error(st.armed_failure);
        self->send(st.results, executed_atom_v, st.executor->execute(plan));
      },
      [=](fail_atom, const std::string& why) { self->state.armed_failure = why; },
  };
}

}  // namespace

executor_actor spawn_executor(caf::actor_system& system, std::shared_ptr<engine::StepExecutor> exec) {
  return system.spawn<caf::detached>(executor, std::move(exec));
}

}  // namespace pagedserve::actors
