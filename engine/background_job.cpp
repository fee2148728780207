#include "engine/background_job.hpp"

#include <utility>

namespace pagedserve::engine {

BackgroundJob::BackgroundJob(std::function<void()> job) : job_(std::move(job)), thread_([this] { run(); }) {}

BackgroundJob::~BackgroundJob() {
  join_quietly();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundJob::start() {
  {
    std::lock_guard lock(mu_);
    ++num_started_;
  }
  cv_.notify_all();
}

std::exception_ptr BackgroundJob::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return num_finished_ == num_started_; });
  return std::exchange(error_, nullptr);
}

void BackgroundJob::join() {
  if (auto error = wait()) std::rethrow_exception(error);
}

void BackgroundJob::join_quietly() noexcept { wait(); }

void BackgroundJob::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || num_finished_ < num_started_; });
    if (num_finished_ == num_started_) return;  // stopping, nothing left to run
    lock.unlock();
    std::exception_ptr error;
    try {
      job_();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    ++num_finished_;
    cv_.notify_all();
  }
}

}  // namespace pagedserve::engine
