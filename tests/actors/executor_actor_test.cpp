// The executor actor: steps run in order on a thread of its own, and a step
// that throws ends the actor with step_failed.

#include <caf/all.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "actors/engine_start.hpp"
#include "actors/runtime.hpp"

using namespace pagedserve;
using namespace std::chrono_literals;

namespace {

// Records which thread ran each step; throws at the step with `fail_at`.
class RecordingExecutor final : public engine::StepExecutor {
 public:
  explicit RecordingExecutor(int fail_at = -1) : fail_at_(fail_at) {}
  std::string name() const override { return "recording"; }
  engine::StepResult execute(const engine::StepPlan&) override {
    std::lock_guard lock(mu_);
    if (steps_++ == fail_at_) throw std::runtime_error("the device fell off the bus");
    threads_.push_back(std::this_thread::get_id());
    return {};
  }
  std::vector<std::thread::id> threads() const {
    std::lock_guard lock(mu_);
    return threads_;
  }

 private:
  mutable std::mutex mu_;
  int steps_ = 0;
  int fail_at_;
  std::vector<std::thread::id> threads_;
};

// Stands in for the scheduler: counts the results it is sent.
actors::scheduler_actor::behavior_type results_counter(actors::scheduler_actor::pointer, std::promise<void>* done,
                                                       int expected) {
  auto seen = std::make_shared<int>(0);
  return {
      [](actors::step_atom) {},
      [=](actors::executed_atom, engine::StepResult&) {
        if (++*seen == expected) done->set_value();
      },
      [](actors::submit_atom, actors::GenerateRequest&) {},
      [](actors::cancel_atom, const std::string&) {},
      [](actors::cancel_all_atom) {},
      [](actors::metrics_atom) { return actors::EngineMetrics{}; },
      [](actors::admin_atom, const actors::AdminQuery&) { return actors::AdminSnapshot{}; },
      [](actors::ping_atom) { return true; },
      [](actors::fail_atom, const std::string&) {},
  };
}

}  // namespace

TEST_CASE("the executor runs every step on one thread that is not the caller's and answers each", "[executor]") {
  auto runtime = actors::make_runtime(false);
  auto exec = std::make_shared<RecordingExecutor>();
  std::promise<void> done;
  {
    auto executor = actors::spawn_executor(*runtime.system, exec);
    auto counter = runtime.system->spawn(results_counter, &done, 20);
    caf::anon_send(executor, actors::connect_atom_v, actors::step_results_actor{counter});
    for (int i = 0; i < 20; ++i) caf::anon_send(executor, actors::execute_atom_v, engine::StepPlan{});
    REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
    caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
  }
  const auto threads = exec->threads();
  REQUIRE(threads.size() == 20);
  for (const auto& t : threads) CHECK(t == threads.front());
  CHECK(threads.front() != std::this_thread::get_id());
}

TEST_CASE("a step that throws ends the executor with step_failed and the device's words", "[executor]") {
  auto runtime = actors::make_runtime(false);
  auto executor = actors::spawn_executor(*runtime.system, std::make_shared<RecordingExecutor>(0));
  caf::scoped_actor self{*runtime.system};
  self->monitor(executor);
  caf::anon_send(executor, actors::execute_atom_v, engine::StepPlan{});
  std::string reason;
  self->receive([&](caf::down_msg& down) { reason = actors::describe(down.reason); },
                caf::after(10s) >> [&] { reason = "no down message"; });
  CHECK(reason.find("step_failed") != std::string::npos);
  CHECK(reason.find("the device fell off the bus") != std::string::npos);
}
