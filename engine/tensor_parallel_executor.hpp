#pragma once
// One step on a group of tensor-parallel ranks (model/tensor_parallel.hpp),
// each a ModelExecutor with its slice of the model and of the KV cache
// under the same block ids, on a thread of its own. Every rank performs
// the whole plan, block copies and sampling included: their logits are the
// same bits (the all-reduce sums in rank order on every rank) and their
// samplers the same seeds, so they draw the same tokens, which is checked
// each step. Rank 0's result is the step's.
//
// A rank that fails aborts the group, so no rank waits forever in a
// collective; the step throws and the group stays failed (the engine's
// supervision ends it: a half-applied step is never retried).

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/executor.hpp"
#include "kernels/collective.hpp"

namespace pagedserve::engine {

class TensorParallelExecutor final : public StepExecutor {
 public:
  TensorParallelExecutor(std::vector<std::unique_ptr<StepExecutor>> ranks, std::shared_ptr<kernels::CollectiveGroup> group);
  ~TensorParallelExecutor() override;

  std::string name() const override;
  StepResult execute(const StepPlan& plan) override;
  int world_size() const { return static_cast<int>(ranks_.size()); }

 private:
  struct Rank {
    std::unique_ptr<StepExecutor> executor;
    StepResult result;
  };
  void serve_rank(int rank);
  static void check_same_draws(const StepResult& a, const StepResult& b, int rank);

  std::vector<Rank> ranks_;
  std::shared_ptr<kernels::CollectiveGroup> group_;
  std::mutex mutex_;
  std::condition_variable changed_;
  const StepPlan* plan_ = nullptr;
  std::uint64_t round_ = 0;   // bumped for each step handed out
  int pending_ = 0;           // ranks still working on this round
  bool stopping_ = false;
  bool failed_ = false;
  std::exception_ptr first_error_;  // the failure that aborted the group
  std::vector<std::thread> threads_;  // last: started once the rest exists
};

}  // namespace pagedserve::engine
