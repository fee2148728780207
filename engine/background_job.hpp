#pragma once
// A thread that runs one fixed job each time it is started, for work that
// overlaps the caller's own: the executor's grammar masks are computed here
// while its thread runs the model forward. The thread is made once and
// sleeps between jobs, so a step costs a wake-up, never a thread creation.
//
// Protocol: start() and join() alternate on one calling thread. What the
// job writes is visible to the caller once join() returns; join() rethrows
// what the job threw, so a failure surfaces on the caller's thread.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace pagedserve::engine {

class BackgroundJob {
 public:
  explicit BackgroundJob(std::function<void()> job);
  // Waits for a job in progress (its exception is dropped), then ends the thread.
  ~BackgroundJob();
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Runs the job once on the thread. Precondition: the last start was joined.
  void start();
  // Waits for the job started last; rethrows its exception. Returns at once
  // when nothing was started since the last join.
  void join();
  // join(), dropping the job's exception: for a caller already unwinding.
  void join_quietly() noexcept;
  // Jobs run so far (started ones included).
  std::uint64_t num_started() const { return num_started_; }

 private:
  void run();
  std::exception_ptr wait();

  std::function<void()> job_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t num_started_ = 0;   // written by the caller under mu_
  std::uint64_t num_finished_ = 0;  // written by the thread under mu_
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace pagedserve::engine
