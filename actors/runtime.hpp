#pragma once
// Spawning the actors of one engine. Each actor is a thin shell around one
// plain C++ object (engine/, memory/) and owns it alone.
//
//   [router]          RequestSinks by request id; forwards submits and cancels
//   [scheduler]       engine::Scheduler + OutputProcessor; drives the step loop
//   [block manager]   memory::BlockManager; plans each step on the lent Scheduler
//   [executor]        engine::StepExecutor (backend, model, KV pools, samplers);
//                     detached: a step runs on its own thread

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "actors/protocol.hpp"
#include "engine/executor.hpp"
#include "engine/output_processor.hpp"

namespace pagedserve::actors {

// Gauges the scheduler actor publishes for the facade's admission checks.
struct SharedGauges {
  std::atomic<int> num_waiting{0};     // in the scheduler's waiting queue
  std::atomic<int> num_in_transit{0};  // submitted, not yet queued by the scheduler
};

struct SchedulerActorConfig {
  engine::SchedulerConfig scheduler;
  const model::Tokenizer* tokenizer = nullptr;  // outlives the actor system
  std::vector<std::int32_t> eos_ids;
  int max_model_len = 0;
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
  std::shared_ptr<SharedGauges> gauges;
};

// The block manager hands each plan with work to `executor`.
block_manager_actor spawn_block_manager(caf::actor_system& system, const memory::BlockManagerConfig& config,
                                        executor_actor executor);
executor_actor spawn_executor(caf::actor_system& system, std::shared_ptr<engine::StepExecutor> executor);
// `on_done` runs (on the router's thread) after a request's RequestDone was delivered.
router_actor spawn_router(caf::actor_system& system, std::function<void(const std::string&)> on_done);
scheduler_actor spawn_scheduler(caf::actor_system& system, SchedulerActorConfig config, router_actor router,
                                block_manager_actor blocks, executor_actor executor);

}  // namespace pagedserve::actors
