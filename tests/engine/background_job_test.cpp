// BackgroundJob: the job runs on one thread of its own, made once, while
// the caller goes on; join() waits for it and rethrows what it threw.

#include "engine/background_job.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using pagedserve::engine::BackgroundJob;
using namespace std::chrono_literals;

TEST_CASE("a background job runs on one thread of its own, the same every time", "[engine][background_job]") {
  std::vector<std::thread::id> ran_on;
  BackgroundJob job([&] { ran_on.push_back(std::this_thread::get_id()); });
  for (int i = 0; i < 5; ++i) {
    job.start();
    job.join();
  }
  REQUIRE(ran_on.size() == 5);
  CHECK(ran_on[0] != std::this_thread::get_id());
  for (const auto& id : ran_on) CHECK(id == ran_on[0]);
  CHECK(job.num_started() == 5);
  job.join();  // nothing started since: returns at once
}

TEST_CASE("start returns while the job runs: the caller's work overlaps it", "[engine][background_job]") {
  // The job waits for a signal the caller sends after start(): a start()
  // that ran the job itself would see no signal (and give up after 10 s).
  std::mutex mu;
  std::condition_variable cv;
  bool signalled = false;
  bool job_saw_signal = false;
  BackgroundJob job([&] {
    std::unique_lock lock(mu);
    job_saw_signal = cv.wait_for(lock, 10s, [&] { return signalled; });
  });
  job.start();
  {
    std::lock_guard lock(mu);
    signalled = true;
  }
  cv.notify_all();
  job.join();
  CHECK(job_saw_signal);
}

TEST_CASE("join rethrows what the job threw, once, and the next run is clean", "[engine][background_job]") {
  int runs = 0;
  BackgroundJob job([&] {
    if (++runs == 1) throw std::runtime_error("mask failed");
  });
  job.start();
  CHECK_THROWS_WITH(job.join(), "mask failed");
  job.join();  // the error was handed over already
  job.start();
  CHECK_NOTHROW(job.join());
  CHECK(runs == 2);
}

TEST_CASE("join_quietly drops the error and destruction waits for a running job", "[engine][background_job]") {
  std::atomic<bool> finished{false};
  {
    int runs = 0;
    BackgroundJob job([&] {
      if (++runs == 1) throw std::runtime_error("dropped");
    });
    job.start();
    job.join_quietly();
    job.start();
    CHECK_NOTHROW(job.join());  // the dropped error did not stay behind
    CHECK(runs == 2);
  }
  {
    BackgroundJob job([&] {
      std::this_thread::sleep_for(50ms);
      finished = true;
    });
    job.start();
  }
  CHECK(finished);
}
