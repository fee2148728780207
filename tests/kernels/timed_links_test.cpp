// The timed pipeline link adds up the time a stage waits for the one
// before it, and passes every micro-batch and an abort through.

#include "kernels/timed_links.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace pagedserve::kernels;
using namespace std::chrono_literals;

namespace {

struct TimedQueue {
  QueueStageLink link;
  WaitClock clock;
  TimedStageLink timed{link, clock};
};

// Runs `act` on a thread of its own after `delay`.
template <class Act>
std::thread after(std::chrono::milliseconds delay, Act act) {
  return std::thread([delay, act] {
    std::this_thread::sleep_for(delay);
    act();
  });
}

}  // namespace

TEST_CASE("a timed link counts the receiver's wait and passes micro-batches in order", "[timed_links]") {
  TimedQueue q;
  std::thread sender = after(50ms, [&q] {
    q.timed.send({{1.0f}, {2.0f}});
    q.timed.send({{3.0f}, {4.0f}});
  });
  const HiddenState first = q.timed.receive();
  const HiddenState second = q.timed.receive();
  sender.join();
  CHECK(first.x == std::vector<float>{1.0f});
  CHECK(second.residual == std::vector<float>{4.0f});
  CHECK(q.clock.seconds() >= 0.040);
  CHECK(q.clock.seconds() < 10.0);
}

TEST_CASE("a timed link that is aborted throws, and its wait still counts", "[timed_links]") {
  TimedQueue q;
  std::thread aborter = after(30ms, [&q] { q.timed.abort(); });
  CHECK_THROWS_AS(q.timed.receive(), std::runtime_error);
  aborter.join();
  CHECK(q.clock.seconds() >= 0.020);
}

TEST_CASE("split waits hand out nothing for a rank without a link", "[timed_links]") {
  SplitWaits waits(2);
  CHECK(waits.timed(0, nullptr) == nullptr);
  CHECK(waits.timed_receive(1, nullptr) == nullptr);
  CHECK(waits.ranks() == 2);
  CHECK(waits.collective_seconds(1) == 0);
}
