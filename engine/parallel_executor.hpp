#pragma once
// One step on a group of ranks, each a ModelExecutor on a thread of its
// own, that together hold the model: tensor-parallel ranks
// (model/tensor_parallel.hpp) each with a slice of every layer, pipeline
// stages (model/pipeline_parallel.hpp) each with a range of layers, or
// both (every stage a tensor-parallel group). Every rank holds its part
// of the KV cache under the same block ids and performs the whole plan:
// the block copies on its own part, the forward on its own layers.
//
// Only the last pipeline stage makes logits; its ranks sample, with the
// same seeds from the same bits (the all-reduce sums in rank order on
// every rank), so they draw the same tokens, which is checked each step.
// The first of them gives the step's result.
//
// A rank that fails aborts the group (its collectives and pipeline links),
// so no rank waits forever; the step throws and the group stays failed
// (the engine's supervision ends it: a half-applied step is never retried).

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/executor.hpp"

namespace pagedserve::engine {

class ParallelExecutor final : public StepExecutor {
 public:
  // `ranks` stage by stage; ranks [first_sampling_rank, end) sample.
  // `abort_group` releases every rank waiting on another; `kind` names the
  // split ("tensor parallel 2").
  ParallelExecutor(std::vector<std::unique_ptr<StepExecutor>> ranks, int first_sampling_rank,
                   std::function<void()> abort_group, std::string kind);
  ~ParallelExecutor() override;

  std::string name() const override;
  StepResult execute(const StepPlan& plan) override;
  int world_size() const { return static_cast<int>(ranks_.size()); }

  // Wall time of the steps so far, from handing a plan out to the last
  // rank's end, and each rank's share of it spent performing the plan
  // (the rest it waited for the slowest rank).
  struct Times {
    std::uint64_t steps = 0;
    double step_seconds = 0;
    std::vector<double> rank_seconds;
  };
  Times times() const;
  // Throws std::logic_error naming `rank` when `b` drew other tokens than
  // `a` (the first sampling rank): ranks that sample must agree.
  static void check_same_draws(const StepResult& a, const StepResult& b, int rank);

 private:
  struct Rank {
    std::unique_ptr<StepExecutor> executor;
    StepResult result;
    double seconds = 0;  // performing plans, all steps
  };
  void serve_rank(int rank);

  std::vector<Rank> ranks_;
  const int first_sampling_rank_;
  std::function<void()> abort_group_;
  const std::string kind_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  const StepPlan* plan_ = nullptr;
  std::uint64_t round_ = 0;   // bumped for each step handed out
  double step_seconds_ = 0;   // all steps, wall time
  int pending_ = 0;           // ranks still working on this round
  bool stopping_ = false;
  bool failed_ = false;
  std::exception_ptr first_error_;  // the failure that aborted the group
  std::vector<std::thread> threads_;  // last: started once the rest exists
};

}  // namespace pagedserve::engine
