// The block-manager actor: owns the GPU and CPU block pools. Each step it
// runs the lent scheduling policy against them and returns the step's plan
// (batch metadata, copy-on-write and swap lists) with the policy.

#include <algorithm>

#include "actors/admin_view.hpp"
#include "actors/runtime.hpp"

namespace pagedserve::actors {

namespace {

struct BlockManagerState {
  std::unique_ptr<memory::BlockManager> blocks;
  int peak_gpu_blocks_used = 0;
  static inline const char* name = "block_manager";
};

block_manager_actor::behavior_type block_manager(block_manager_actor::stateful_pointer<BlockManagerState> self,
                                                 memory::BlockManagerConfig config) {
  self->state.blocks = std::make_unique<memory::BlockManager>(config);
  return {
      [=](plan_atom, PlanRequest& req) {
        PlanReply reply{req.scheduler, {}, {}};
        try {
          auto& blocks = *self->state.blocks;
          reply.step = engine::plan_next_step(*req.scheduler, blocks, req.step_id);
          const int used = blocks.config().num_gpu_blocks - blocks.num_free_gpu_blocks();
          self->state.peak_gpu_blocks_used = std::max(self->state.peak_gpu_blocks_used, used);
        } catch (const std::exception& e) {
          reply.error = std::string("planning the step failed: ") + e.what();
        }
        return reply;
      },
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

block_manager_actor spawn_block_manager(caf::actor_system& system, const memory::BlockManagerConfig& config) {
  return system.spawn(block_manager, config);
}

}  // namespace pagedserve::actors
