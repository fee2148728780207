#include "cli/signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace pagedserve::cli {

namespace {

// SIGUSR2 is the watcher's private "quit" (sent by the destructor).
sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

void SignalWatcher::block_in_this_thread() {
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload) {
  block_in_this_thread();
  thread_ = std::thread([stop = std::move(on_stop), reload = std::move(on_reload)] {
    sigset_t set = watched();
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR2) return;
      if (sig == SIGHUP) reload();
      else stop();
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
}

}  // namespace pagedserve::cli
