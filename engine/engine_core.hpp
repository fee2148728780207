#pragma once
// The engine's step loop in one thread. The actor runtime runs the same
// pieces in separate actors, passing the same values between them; this
// synchronous form serves tests and offline tools.
//
//   Scheduler::memory_request() -> MemoryRequest -> grant_memory() (blocks)
//     -> MemoryGrant -> plan_step() -> StepPlan -> StepExecutor::execute()
//     -> StepResult;  Scheduler::apply(MemoryGrant) -> SchedulerOutput
//     -> OutputProcessor -> events
//
// Invariant: last_ holds the latest step; the groups it points to stay
// alive until the next step() (the Scheduler keeps ended groups until then).

#include <memory>
#include <string>
#include <vector>

#include "engine/executor.hpp"
#include "engine/output_processor.hpp"
#include "engine/scheduler.hpp"
#include "engine/step_plan.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::engine {

// One step, both halves of the policy run here.
struct PlannedStep {
  std::shared_ptr<SchedulerOutput> output;
  std::shared_ptr<StepPlan> plan;
};

// Runs the scheduling policy against `blocks` and builds the step.
PlannedStep plan_next_step(Scheduler& scheduler, memory::BlockManager& blocks, std::uint64_t step_id);

struct EngineCoreConfig {
  memory::BlockManagerConfig blocks;
  SchedulerConfig scheduler;
  std::vector<std::int32_t> eos_ids;
  int max_model_len = 0;
};

class EngineCore {
 public:
  // `executor` and `tokenizer` (may be null) must outlive the core.
  EngineCore(const EngineCoreConfig& config, StepExecutor& executor, const model::Tokenizer* tokenizer);

  void add(GenerateRequest request, std::vector<Event>& events);
  void abort(const std::string& request_id, std::vector<Event>& events);
  // One iteration; appends the events it produced.
  void step(std::vector<Event>& events);
  bool has_work() const { return scheduler_.has_work(); }

  const memory::BlockManager& blocks() const { return blocks_; }
  const Scheduler& scheduler() const { return scheduler_; }
  // The SchedulerOutput of the last step (tests check its budgets).
  const SchedulerOutput& last_output() const { return *last_.output; }

 private:
  memory::BlockManager blocks_;
  Scheduler scheduler_;
  OutputProcessor outputs_;
  StepExecutor& executor_;
  PlannedStep last_;
  std::uint64_t next_step_id_ = 0;
};

}  // namespace pagedserve::engine
