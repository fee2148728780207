#include "kernels/stage_link.hpp"

#include <stdexcept>

namespace pagedserve::kernels {

void QueueStageLink::send(HiddenState h) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(h));
  }
  changed_.notify_one();
}

HiddenState QueueStageLink::receive() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return aborted_ || !queue_.empty(); });
  if (aborted_) throw std::runtime_error("the pipeline was aborted: a stage failed");
  HiddenState h = std::move(queue_.front());
  queue_.pop_front();
  return h;
}

void QueueStageLink::abort() {
  {
    std::lock_guard lock(mutex_);
    aborted_ = true;
  }
  changed_.notify_all();
}

PipelineLinks::PipelineLinks(int stages, int width) : stages_(stages), width_(width) {
  if (stages < 1 || width < 1) throw std::invalid_argument("a pipeline needs at least one stage of one rank");
  for (int i = 0; i < (stages - 1) * width; ++i) links_.push_back(std::make_unique<QueueStageLink>());
}

StageLink* PipelineLinks::from(int stage, int rank) {
  return stage == 0 ? nullptr : links_.at(static_cast<std::size_t>((stage - 1) * width_ + rank)).get();
}

StageLink* PipelineLinks::to(int stage, int rank) {
  return stage == stages_ - 1 ? nullptr : links_.at(static_cast<std::size_t>(stage * width_ + rank)).get();
}

void PipelineLinks::abort() {
  for (auto& l : links_) l->abort();
}

}  // namespace pagedserve::kernels
