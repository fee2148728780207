#include "engine/engine_core.hpp"

#include "engine/memory_grant.hpp"

namespace pagedserve::engine {

PlannedStep plan_next_step(Scheduler& scheduler, memory::BlockManager& blocks, std::uint64_t step_id) {
  auto request = scheduler.memory_request(step_id);
  const auto grant = grant_memory(request, blocks);
  PlannedStep p;
  p.plan = std::make_shared<StepPlan>(plan_step(request, grant, blocks));
  p.output = std::make_shared<SchedulerOutput>(scheduler.apply(grant));
  return p;
}

EngineCore::EngineCore(const EngineCoreConfig& config, StepExecutor& executor, const model::Tokenizer* tokenizer)
    : blocks_(config.blocks),
      scheduler_(config.scheduler),
      outputs_(tokenizer, config.eos_ids, config.max_model_len),
      executor_(executor),
      last_{std::make_shared<SchedulerOutput>(), std::make_shared<StepPlan>()} {}

void EngineCore::add(GenerateRequest request, std::vector<Event>& events) {
  outputs_.add_request(std::move(request), scheduler_, events);
}

void EngineCore::abort(const std::string& request_id, std::vector<Event>& events) {
  if (auto g = scheduler_.abort(request_id)) outputs_.on_cancelled(*g, events);
}

void EngineCore::step(std::vector<Event>& events) {
  last_ = plan_next_step(scheduler_, blocks_, next_step_id_++);
  outputs_.on_scheduled(*last_.output, events);
  if (!last_.plan->has_work()) return;
  StepResult result;
  try {
    result = executor_.execute(*last_.plan);
  } catch (const std::exception& e) {
    outputs_.on_failed(*last_.output, std::string("the model step failed: ") + e.what(), scheduler_, events);
    return;
  }
  outputs_.on_executed(*last_.output, result, scheduler_, events);
  outputs_.take_latency_samples();  // nobody reads them here: keep them from piling up
}

}  // namespace pagedserve::engine
