// The executor actor: one per device, on its own thread. A step is long and
// must not hold a scheduler worker, and the device wants one calling thread
// (the CPU backend's OpenMP team and a CUDA context belong to the thread
// that drives them; an executor on the worker pool saved context switches
// in bench overhead but would hop between worker threads). Owns the
// StepExecutor: backend, model, KV pools and sampler states.

#include "actors/runtime.hpp"

namespace pagedserve::actors {

namespace {

struct ExecutorState {
  std::shared_ptr<engine::StepExecutor> executor;
  static inline const char* name = "executor";
};

executor_actor::behavior_type executor(executor_actor::stateful_pointer<ExecutorState> self,
                                       std::shared_ptr<engine::StepExecutor> exec) {
  self->state.executor = std::move(exec);
  return {
      [=](execute_atom, const StepPlanMsg& msg) {
        StepResultMsg out;
        try {
          out.result = std::make_shared<engine::StepResult>(self->state.executor->execute(*msg.plan));
        } catch (const std::exception& e) {
          out.error = e.what();
        }
        return out;
      },
  };
}

}  // namespace

executor_actor spawn_executor(caf::actor_system& system, std::shared_ptr<engine::StepExecutor> exec) {
  return system.spawn<caf::detached>(executor, std::move(exec));
}

}  // namespace pagedserve::actors
