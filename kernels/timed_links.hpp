#pragma once
// Where a split model's ranks spend their time waiting: decorators over a
// rank's collective and its pipeline link that add up the time spent
// inside them. A collective's time is its transfer and its wait for the
// slowest rank; a receive's time is the wait for the stage before (the
// pipeline's bubble, plus the transfer). Two clock reads per call.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/collective.hpp"
#include "kernels/stage_link.hpp"

namespace pagedserve::kernels {

// Time added up from any thread.
class WaitClock {
 public:
  void add(std::chrono::steady_clock::duration d) {
    nanoseconds_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::memory_order_relaxed);
  }
  double seconds() const { return static_cast<double>(nanoseconds_.load(std::memory_order_relaxed)) * 1e-9; }

 private:
  std::atomic<std::int64_t> nanoseconds_{0};
};

class TimedCollective final : public Collective {
 public:
  TimedCollective(Collective& inner, WaitClock& clock) : inner_(inner), clock_(clock) {}
  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  void all_reduce_sum(Tensor t) override;
  void all_gather_columns(const Tensor& local, Tensor out) override;

 private:
  Collective& inner_;
  WaitClock& clock_;
};

// Times receive() only: a send does not wait for the next stage.
class TimedStageLink final : public StageLink {
 public:
  TimedStageLink(StageLink& inner, WaitClock& clock) : inner_(inner), clock_(clock) {}
  void send(HiddenState h) override { inner_.send(std::move(h)); }
  HiddenState receive() override;
  void abort() override { inner_.abort(); }

 private:
  StageLink& inner_;
  WaitClock& clock_;
};

// The clocks of every rank of a split model, and the decorators that feed
// them (kept here: the ranks' models hold references to them).
class SplitWaits {
 public:
  explicit SplitWaits(int ranks) : collective_(ranks), receive_(ranks) {}
  // `inner` timed into rank `rank`'s clocks; valid while this lives.
  Collective* timed(int rank, Collective* inner);
  StageLink* timed_receive(int rank, StageLink* inner);
  int ranks() const { return static_cast<int>(collective_.size()); }
  double collective_seconds(int rank) const { return collective_[rank].seconds(); }
  double receive_seconds(int rank) const { return receive_[rank].seconds(); }

 private:
  std::vector<WaitClock> collective_, receive_;
  std::vector<std::unique_ptr<Collective>> collectives_;
  std::vector<std::unique_ptr<StageLink>> links_;
};

}  // namespace pagedserve::kernels
