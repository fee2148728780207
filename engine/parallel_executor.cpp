#include "engine/parallel_executor.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

namespace pagedserve::engine {

ParallelExecutor::ParallelExecutor(std::vector<std::unique_ptr<StepExecutor>> ranks, int first_sampling_rank,
                                   std::function<void()> abort_group, std::string kind)
    : first_sampling_rank_(first_sampling_rank), abort_group_(std::move(abort_group)), kind_(std::move(kind)) {
  if (first_sampling_rank < 0 || first_sampling_rank >= static_cast<int>(ranks.size()))
    throw std::invalid_argument("a parallel executor needs ranks, and a sampling rank among them");
  for (auto& r : ranks) ranks_.push_back(Rank{std::move(r), {}});
  for (int r = 0; r < world_size(); ++r) threads_.emplace_back([this, r] { serve_rank(r); });
}

ParallelExecutor::~ParallelExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
}

std::string ParallelExecutor::name() const {
  return ranks_.front().executor->name() + " x" + std::to_string(ranks_.size()) + " (" + kind_ + ")";
}

// A rank's thread: waits for each round's plan, performs it, reports.
void ParallelExecutor::serve_rank(int rank) {
  std::uint64_t seen = 0;
  for (;;) {
    const StepPlan* plan = nullptr;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || round_ != seen; });
      if (stopping_) return;
      seen = round_;
      plan = plan_;
    }
    Rank& me = ranks_[rank];
    const auto start = std::chrono::steady_clock::now();
    try {
      me.result = me.executor->execute(*plan);
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        if (!first_error_) first_error_ = std::current_exception();
      }
      abort_group_();  // the others may be waiting for this rank in a collective or a link
    }
    std::lock_guard lock(mutex_);
    me.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (--pending_ == 0) changed_.notify_all();
  }
}

ParallelExecutor::Times ParallelExecutor::times() const {
  std::lock_guard lock(mutex_);
  Times t{round_, step_seconds_, {}};
  for (const auto& r : ranks_) t.rank_seconds.push_back(r.seconds);
  return t;
}

void ParallelExecutor::check_same_draws(const StepResult& a, const StepResult& b, int rank) {
  bool same = a.samples.size() == b.samples.size();
  for (std::size_t i = 0; same && i < a.samples.size(); ++i)
    same = a.samples[i].seq_id == b.samples[i].seq_id && a.samples[i].token_id == b.samples[i].token_id;
  if (!same) throw std::logic_error("rank " + std::to_string(rank) + " drew other tokens than the first sampling rank");
}

StepResult ParallelExecutor::execute(const StepPlan& plan) {
  {
    std::unique_lock lock(mutex_);
    if (failed_) throw std::runtime_error("the " + kind_ + " group failed in an earlier step");
    plan_ = &plan;
    pending_ = world_size();
    ++round_;
    const auto start = std::chrono::steady_clock::now();
    changed_.notify_all();
    changed_.wait(lock, [&] { return pending_ == 0; });
    step_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  failed_ = true;  // until the step is known to be whole
  if (first_error_) std::rethrow_exception(first_error_);
  const StepResult& first = ranks_[first_sampling_rank_].result;
  for (int r = first_sampling_rank_ + 1; r < world_size(); ++r) check_same_draws(first, ranks_[r].result, r);
  failed_ = false;
  return std::move(ranks_[first_sampling_rank_].result);
}

}  // namespace pagedserve::engine
