// The block-manager actor: owns the GPU and CPU block pools and nothing
// else. Each step it grants the scheduler's MemoryRequest against them,
// answers with the grant, then hands the step's plan (batch metadata,
// copy-on-write and swap lists, sampler setups) to the executor, whose
// result goes to the scheduler. The grant is answered first, so the
// scheduler always has it before the step's result.
//
// An exception while granting leaves the pools in an unknown state: the
// actor ends with `planning_failed` and the engine is dead (never retried).

#include "actors/runtime.hpp"

#include <algorithm>

#include "actors/admin_views.hpp"
#include "engine/memory_grant.hpp"

namespace pagedserve::actors {

namespace {

struct BlockManagerState {
  std::unique_ptr<memory::BlockManager> blocks;
  executor_actor executor;
  int peak_gpu_blocks_used = 0;
  std::string armed_failure;  // a test's: thrown at the next plan
  static inline const char* name = "block_manager";
};

caf::typed_response_promise<engine::MemoryGrant> plan(block_manager_actor::stateful_pointer<BlockManagerState> self,
                                                    engine::MemoryRequest& request) {
  auto& st = self->state;
  if (!st.armed_failure.empty()) throw std::runtime_error(st.armed_failure);
  auto grant = engine::grant_memory(request, *st.blocks);
  auto step = engine::plan_step(request, grant, *st.blocks);
  const int used = st.blocks->config().num_gpu_blocks - st.blocks->num_free_gpu_blocks();
  st.peak_gpu_blocks_used = std::max(st.peak_gpu_blocks_used, used);
  grant.executes = step.has_work();
  auto rp = self->make_response_promise<engine::MemoryGrant>();
  rp.deliver(std::move(grant));
  if (step.has_work()) self->send(st.executor, execute_atom_v, std::move(step));
  return rp;
}

block_manager_actor::behavior_type block_manager(block_manager_actor::stateful_pointer<BlockManagerState> self,
                                                 memory::BlockManagerConfig config, executor_actor executor) {
  self->state.blocks = std::make_unique<memory::BlockManager>(config);
  self->state.executor = std::move(executor);
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::planning_failed, e); });
  return {
      [=](plan_atom, engine::MemoryRequest& request) { return plan(self, request); },
      [=](stats_atom) { return BlockStats{self->state.blocks->stats(), self->state.peak_gpu_blocks_used}; },
      [=](admin_atom, const AdminQuery& query, const SeqOwnerList& owners) -> caf::result<AdminSnapshot> {
        if (auto snapshot = block_snapshot(query, *self->state.blocks, owners)) return std::move(*snapshot);
        return caf::make_error(caf::sec::unexpected_message, std::string("not a view of the block manager"));
      },
      [=](fail_atom, const std::string& why) { self->state.armed_failure = why; },
  };
}

}  // namespace

block_manager_actor spawn_block_manager(caf::actor_system& system, const memory::BlockManagerConfig& config,
                                        executor_actor executor) {
  return system.spawn(block_manager, config, std::move(executor));
}

}  // namespace pagedserve::actors
