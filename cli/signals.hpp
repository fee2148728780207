#pragma once
// Process signals as ordinary callbacks: SIGTERM and SIGINT ask for a
// graceful stop, SIGHUP for reopening logs and reloading the log level.
// The signals are blocked in every thread and taken by one watcher thread
// with sigwait, so no code runs inside a signal handler.

#include <functional>
#include <thread>

namespace pagedserve::cli {

class SignalWatcher {
 public:
  // Call before starting any other thread (threads inherit the mask).
  static void block_in_this_thread();

  SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload);
  ~SignalWatcher();  // stops the watcher thread
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::thread thread_;
};

}  // namespace pagedserve::cli
