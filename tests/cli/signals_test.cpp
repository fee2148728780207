#include "cli/signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace pagedserve::cli;

namespace {
template <class F>
bool eventually(F&& f) {
  for (int i = 0; i < 200 && !f(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return f();
}
}  // namespace

TEST_CASE("SIGHUP reloads and SIGTERM / SIGINT stop, through the watcher thread", "[signals]") {
  std::atomic<int> stops{0}, reloads{0};
  {
    SignalWatcher watcher([&] { ++stops; }, [&] { ++reloads; });
    ::kill(::getpid(), SIGHUP);
    CHECK(eventually([&] { return reloads == 1; }));
    ::kill(::getpid(), SIGTERM);
    CHECK(eventually([&] { return stops == 1; }));
    ::kill(::getpid(), SIGINT);
    CHECK(eventually([&] { return stops == 2; }));
  }
  CHECK(reloads == 1);
}
