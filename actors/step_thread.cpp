#include "actors/step_thread.hpp"

#include <exception>

namespace pagedserve::actors {

StepThread::StepThread(std::shared_ptr<engine::StepExecutor> executor, Finished finished, Failed failed)
    : executor_(std::move(executor)), finished_(std::move(finished)), failed_(std::move(failed)),
      thread_([this] { run(); }) {}

StepThread::~StepThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void StepThread::post(engine::StepPlan plan) {
  {
    std::lock_guard lock(mu_);
    plans_.push_back(std::move(plan));
  }
  cv_.notify_one();
}

bool StepThread::next(engine::StepPlan& plan) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || !plans_.empty(); });
  if (stopping_) return false;
  plan = std::move(plans_.front());
  plans_.pop_front();
  return true;
}

void StepThread::run() {
  engine::StepPlan plan;
  while (next(plan)) {
    std::string failure;
    try {
      finished_(executor_->execute(plan));
      continue;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an unknown exception";
    }
    failed_(failure);
    break;
  }
  executor_.reset();
}

}  // namespace pagedserve::actors
