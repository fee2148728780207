// The block-manager actor: owns the GPU and CPU block pools. Each step it
// runs the lent scheduling policy against them, sends the policy back to
// the scheduler with the step's SchedulerOutput, and hands the step's plan
// (batch metadata, copy-on-write and swap lists) to the executor, whose
// answer goes to the scheduler.

#include "actors/runtime.hpp"

#include <algorithm>

#include "actors/admin_view.hpp"

namespace pagedserve::actors {

namespace {

struct BlockManagerState {
  std::unique_ptr<memory::BlockManager> blocks;
  executor_actor executor;
  int peak_gpu_blocks_used = 0;
  static inline const char* name = "block_manager";
};

// Plans the step; the policy goes back first, then the plan to the executor.
caf::result<StepResultMsg> plan(block_manager_actor::stateful_pointer<BlockManagerState> self, PlanRequest& req) {
  auto& st = self->state;
  PlanReply reply{req.scheduler, {}, {}};
  try {
    reply.step = engine::plan_next_step(*req.scheduler, *st.blocks, req.step_id);
    const int used = st.blocks->config().num_gpu_blocks - st.blocks->num_free_gpu_blocks();
    st.peak_gpu_blocks_used = std::max(st.peak_gpu_blocks_used, used);
  } catch (const std::exception& e) {
    reply.error = std::string("planning the step failed: ") + e.what();
  }
  auto step_plan = reply.step.plan;
  self->send(caf::actor_cast<scheduler_actor>(self->current_sender()), planned_atom_v, std::move(reply));
  if (!step_plan || !step_plan->has_work()) return StepResultMsg{};
  return self->delegate(st.executor, execute_atom_v, StepPlanMsg{std::move(step_plan)});
}

block_manager_actor::behavior_type block_manager(block_manager_actor::stateful_pointer<BlockManagerState> self,
                                                 memory::BlockManagerConfig config, executor_actor executor) {
  self->state.blocks = std::make_unique<memory::BlockManager>(config);
  self->state.executor = std::move(executor);
  return {
      [=](plan_atom, PlanRequest& req) { return plan(self, req); },
      [=](stats_atom) {
        return BlockStatsMsg{std::make_shared<memory::BlockManagerStats>(self->state.blocks->stats()),
                             self->state.peak_gpu_blocks_used};
      },
      [=](admin_atom, const std::string& view, const SeqOwnersMsg& owners) {
        return block_view(view, *self->state.blocks, *owners.owners).value_or("");
      },
  };
}

}  // namespace

block_manager_actor spawn_block_manager(caf::actor_system& system, const memory::BlockManagerConfig& config,
                                        executor_actor executor) {
  return system.spawn(block_manager, config, std::move(executor));
}

}  // namespace pagedserve::actors
