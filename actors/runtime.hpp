#pragma once
// Spawning the actors of one engine. Each actor owns its state alone and
// changes it only in its own handlers; what crosses between them is a value.
//
//   [router]          RequestSinks by request id; forwards submits and
//                     cancels; delivers events; supervises the others
//   [scheduler]       engine::Scheduler + OutputProcessor; drives the step loop
//   [block manager]   memory::BlockManager; grants each step's memory
//   [executor]        engine::StepExecutor (backend, model, KV pools,
//                     samplers); a step runs on its StepThread

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/protocol.hpp"
#include "engine/executor.hpp"
#include "engine/scheduler.hpp"
#include "memory/block_manager.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::actors {

// Gauges the scheduler actor publishes for the facade's admission checks.
struct SharedGauges {
  std::atomic<int> num_waiting{0};     // in the scheduler's waiting queue
  std::atomic<int> num_in_transit{0};  // submitted, not yet queued by the scheduler
};

// Whether the engine still works: once an actor has died or a step failed
// with its state unknown, it is dead for good. Thread-safe.
class EngineHealth {
 public:
  // The first reason is kept; true the first time.
  bool mark_dead(const std::string& reason);
  std::optional<std::string> dead_reason() const;
  bool dead() const { return dead_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::optional<std::string> reason_;
  std::atomic<bool> dead_{false};
};

struct SchedulerActorConfig {
  engine::SchedulerConfig scheduler;
  const model::Tokenizer* tokenizer = nullptr;  // outlives the actor system
  std::vector<std::int32_t> eos_ids;
  int max_model_len = 0;
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
  std::shared_ptr<SharedGauges> gauges;
  std::shared_ptr<EngineHealth> health;
  // The router ended: nobody else can tell the open requests (the facade does).
  std::function<void(const std::string&)> on_router_down;
};

// The block manager hands each plan with work to `executor`.
block_manager_actor spawn_block_manager(caf::actor_system& system, const memory::BlockManagerConfig& config,
                                        executor_actor executor);
executor_actor spawn_executor(caf::actor_system& system, std::shared_ptr<engine::StepExecutor> executor);
// `on_done` runs (on the router's thread) after a request's RequestDone was delivered.
router_actor spawn_router(caf::actor_system& system, std::function<void(const std::string&)> on_done,
                          std::shared_ptr<EngineHealth> health);
scheduler_actor spawn_scheduler(caf::actor_system& system, SchedulerActorConfig config, router_actor router,
                                block_manager_actor blocks, executor_actor executor);

// An actor's uncaught exception ends it with this error (the reason its
// monitors see), instead of CAF's reason without the message.
caf::error failure_reason(engine_errc code, std::exception_ptr& e);
// The reason in words: "step_failed: <what the executor threw>".
std::string describe(const caf::error& e);

// The error every request still open gets when the engine dies.
std::string dead_message(const std::string& reason);

}  // namespace pagedserve::actors
