#include "kernels/collective.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>

namespace pagedserve::kernels {

namespace {

// A reusable barrier that an abort releases (std::barrier cannot be).
// After a barrier that opens work on the other ranks' buffers (every rank
// reads or writes them until its Work ends), a rank that an abort releases
// waits until no rank is at such work, so that it may free its own
// buffers as it unwinds.
class AbortableBarrier {
 public:
  explicit AbortableBarrier(int count) : count_(count) {}

  // `work_follows`: every rank that passes will be at Work until its
  // Work ends (all ranks pass, or none: the last to arrive lets them).
  void arrive_and_wait(bool work_follows = false) {
    std::unique_lock lock(mutex_);
    if (aborted_) throw_aborted(lock);
    const std::uint64_t phase = phase_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++phase_;
      if (work_follows) working_ = count_;
      changed_.notify_all();
      return;
    }
    changed_.wait(lock, [&] { return phase_ != phase || aborted_; });
    if (phase_ == phase) throw_aborted(lock);
  }

  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    changed_.notify_all();
  }

  // One rank's work after arrive_and_wait(true); ends with the object,
  // however the work ends.
  class Work {
   public:
    explicit Work(AbortableBarrier& b) : b_(b) {}
    ~Work() {
      std::lock_guard lock(b_.mutex_);
      if (--b_.working_ == 0) b_.changed_.notify_all();
    }
    Work(const Work&) = delete;
    Work& operator=(const Work&) = delete;

   private:
    AbortableBarrier& b_;
  };

 private:
  [[noreturn]] void throw_aborted(std::unique_lock<std::mutex>& lock) {
    changed_.wait(lock, [&] { return working_ == 0; });
    throw std::runtime_error("the tensor-parallel group was aborted: a rank failed");
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  const int count_;
  int arrived_ = 0;
  int working_ = 0;  // ranks at work on the others' buffers
  std::uint64_t phase_ = 0;
  bool aborted_ = false;
};

class InProcessGroup;

class InProcessMember final : public Collective {
 public:
  InProcessMember(InProcessGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override;
  void all_reduce_sum(Tensor t) override;
  void all_gather_columns(const Tensor& local, Tensor out) override;

 private:
  InProcessGroup& group_;
  int rank_;
};

class InProcessGroup final : public CollectiveGroup {
 public:
  explicit InProcessGroup(int world) : barrier_(world), slots_(world) {
    for (int r = 0; r < world; ++r) members_.push_back(std::make_unique<InProcessMember>(*this, r));
  }
  Collective& member(int rank) override { return *members_.at(rank); }
  int world_size() const override { return static_cast<int>(members_.size()); }
  void abort() override { barrier_.abort(); }

  // Each rank publishes its buffer, sums its own slice of every buffer into
  // all of them, and waits until every slice is done.
  void all_reduce_sum(int rank, Tensor t) {
    if (t.dtype != DType::f32) throw std::invalid_argument("all_reduce_sum takes f32 tensors");
    slots_[rank] = t;
    barrier_.arrive_and_wait(true);
    {
      AbortableBarrier::Work work(barrier_);
      const std::int64_t n = t.numel();
      for (const auto& s : slots_)
        if (s.numel() != n) throw std::logic_error("all_reduce_sum: ranks passed tensors of different sizes");
      const int world = world_size();
      const std::int64_t first = n * rank / world, last = n * (rank + 1) / world;
      for (std::int64_t i = first; i < last; ++i) {
        float sum = static_cast<const float*>(slots_[0].data)[i];
        for (int r = 1; r < world; ++r) sum += static_cast<const float*>(slots_[r].data)[i];
        for (int r = 0; r < world; ++r) static_cast<float*>(slots_[r].data)[i] = sum;
      }
    }
    barrier_.arrive_and_wait();
  }

  // Each rank publishes its part, copies every part into its own `out`,
  // and waits until no rank reads its part any more.
  void all_gather_columns(int rank, const Tensor& local, Tensor out) {
    if (local.dtype != DType::f32 || out.dtype != DType::f32) throw std::invalid_argument("all_gather_columns takes f32 tensors");
    slots_[rank] = local;
    barrier_.arrive_and_wait(true);
    {
      AbortableBarrier::Work work(barrier_);
      std::int64_t first = 0;
      for (const auto& part : slots_) {
        if (part.rows != out.rows || first + part.cols > out.cols)
          throw std::logic_error("all_gather_columns: the parts do not fit the output");
        for (std::int64_t r = 0; r < out.rows; ++r) {
          const float* from = static_cast<const float*>(part.data) + r * part.cols;
          std::copy(from, from + part.cols, static_cast<float*>(out.data) + r * out.cols + first);
        }
        first += part.cols;
      }
      if (first != out.cols) throw std::logic_error("all_gather_columns: the parts do not fill the output");
    }
    barrier_.arrive_and_wait();
  }

 private:
  AbortableBarrier barrier_;
  std::vector<Tensor> slots_;
  std::vector<std::unique_ptr<InProcessMember>> members_;
};

int InProcessMember::world_size() const { return group_.world_size(); }
void InProcessMember::all_reduce_sum(Tensor t) { group_.all_reduce_sum(rank_, t); }
void InProcessMember::all_gather_columns(const Tensor& local, Tensor out) { group_.all_gather_columns(rank_, local, out); }

}  // namespace

std::shared_ptr<CollectiveGroup> make_in_process_group(int world_size) {
  if (world_size < 1) throw std::invalid_argument("a group needs at least one rank, got " + std::to_string(world_size));
  return std::make_shared<InProcessGroup>(world_size);
}

}  // namespace pagedserve::kernels
