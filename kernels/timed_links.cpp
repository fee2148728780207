#include "kernels/timed_links.hpp"

namespace pagedserve::kernels {

namespace {

// Adds the time from construction to destruction, also when the call throws.
class Timing {
 public:
  explicit Timing(WaitClock& clock) : clock_(clock), start_(std::chrono::steady_clock::now()) {}
  ~Timing() { clock_.add(std::chrono::steady_clock::now() - start_); }
  Timing(const Timing&) = delete;
  Timing& operator=(const Timing&) = delete;

 private:
  WaitClock& clock_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

void TimedCollective::all_reduce_sum(Tensor t) {
  Timing timing(clock_);
  inner_.all_reduce_sum(t);
}

void TimedCollective::all_gather_columns(const Tensor& local, Tensor out) {
  Timing timing(clock_);
  inner_.all_gather_columns(local, out);
}

HiddenState TimedStageLink::receive() {
  Timing timing(clock_);
  return inner_.receive();
}

Collective* SplitWaits::timed(int rank, Collective* inner) {
  if (!inner) return nullptr;
  collectives_.push_back(std::make_unique<TimedCollective>(*inner, collective_.at(rank)));
  return collectives_.back().get();
}

StageLink* SplitWaits::timed_receive(int rank, StageLink* inner) {
  if (!inner) return nullptr;
  links_.push_back(std::make_unique<TimedStageLink>(*inner, receive_.at(rank)));
  return links_.back().get();
}

}  // namespace pagedserve::kernels
