// The parallel executor with ranks that meet in a collective each step:
// one rank's failure ends the step with its error, no rank hangs, and the
// group stays failed; ranks that draw differently are caught.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "engine/parallel_executor.hpp"
#include "kernels/collective.hpp"
#include "kernels/timed_links.hpp"

using namespace pagedserve;
using engine::StepPlan;
using engine::StepResult;

namespace {

// A rank that sums one number with the others per step and draws it as a
// token; it fails before the collective on step `fail_at`.
class SummingRank final : public engine::StepExecutor {
 public:
  SummingRank(kernels::Collective& c, int fail_at, std::int32_t bias, std::chrono::milliseconds late = {})
      : c_(c), fail_at_(fail_at), bias_(bias), late_(late) {}
  std::string name() const override { return "summing"; }
  StepResult execute(const StepPlan& plan) override {
    if (static_cast<int>(plan.step_id) == fail_at_) throw std::runtime_error("rank " + std::to_string(c_.rank()) + " broke");
    std::this_thread::sleep_for(late_);
    float x = static_cast<float>(c_.rank() + 1);
    c_.all_reduce_sum(kernels::Tensor{&x, kernels::DType::f32, 1, 1});
    StepResult r;
    r.step_id = plan.step_id;
    r.add_row();
    r.add_sample({7, static_cast<std::int32_t>(x) + bias_, 0.0f, {}});
    return r;
  }

 private:
  kernels::Collective& c_;
  int fail_at_;
  std::int32_t bias_;
  std::chrono::milliseconds late_;
};

std::unique_ptr<engine::ParallelExecutor> group_of(int world, int failing_rank, int fail_at, int odd_rank = -1) {
  auto group = kernels::make_in_process_group(world);
  std::vector<std::unique_ptr<engine::StepExecutor>> ranks;
  for (int r = 0; r < world; ++r)
    ranks.push_back(std::make_unique<SummingRank>(group->member(r), r == failing_rank ? fail_at : -1, r == odd_rank ? 1 : 0));
  return std::make_unique<engine::ParallelExecutor>(std::move(ranks), 0, [group] { group->abort(); }, "tensor parallel");
}

StepPlan step(std::uint64_t id) {
  StepPlan p;
  p.step_id = id;
  return p;
}

}  // namespace

TEST_CASE("tensor-parallel ranks sum in a collective and rank 0's draws are the step's", "[tensor_parallel]") {
  auto tp = group_of(4, -1, -1);
  for (std::uint64_t s = 1; s <= 50; ++s) {
    auto r = tp->execute(step(s));
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0].token_id == 1 + 2 + 3 + 4);
    CHECK(r.step_id == s);
  }
}

TEST_CASE("a failing rank ends the step with its error and no rank hangs", "[tensor_parallel]") {
  for (int failing = 0; failing < 3; ++failing) {
    INFO("failing rank " << failing);
    auto tp = group_of(3, failing, 4);
    for (std::uint64_t s = 1; s < 4; ++s) tp->execute(step(s));
    CHECK_THROWS_WITH(tp->execute(step(4)), Catch::Contains("rank " + std::to_string(failing) + " broke"));
    CHECK_THROWS_WITH(tp->execute(step(5)), Catch::Contains("failed in an earlier step"));
  }  // and the executor's threads stop
}

TEST_CASE("ranks that draw different tokens fail the step", "[tensor_parallel]") {
  auto tp = group_of(2, -1, -1, 1);
  CHECK_THROWS_WITH(tp->execute(step(1)), Catch::Contains("rank 1 drew other tokens than the first sampling rank"));
  CHECK_THROWS(tp->execute(step(2)));
}

TEST_CASE("the executor and the timed collective tell who waited for whom", "[tensor_parallel]") {
  // Rank 1 reaches the collective 40 ms after rank 0 on every step: rank 0
  // waits there, rank 1 spends the time performing the plan.
  using namespace std::chrono_literals;
  auto group = kernels::make_in_process_group(2);
  auto waits = std::make_shared<kernels::SplitWaits>(2);
  std::vector<std::unique_ptr<engine::StepExecutor>> ranks;
  ranks.push_back(std::make_unique<SummingRank>(*waits->timed(0, &group->member(0)), -1, 0));
  ranks.push_back(std::make_unique<SummingRank>(*waits->timed(1, &group->member(1)), -1, 0, 40ms));
  engine::ParallelExecutor tp(std::move(ranks), 0, [group] { group->abort(); }, "tensor parallel");
  for (std::uint64_t s = 1; s <= 3; ++s) CHECK(tp.execute(step(s)).samples[0].token_id == 1 + 2);

  const auto t = tp.times();
  CHECK(t.steps == 3);
  REQUIRE(t.rank_seconds.size() == 2);
  CHECK(t.rank_seconds[1] >= 0.120);
  CHECK(t.step_seconds >= t.rank_seconds[1]);
  CHECK(t.step_seconds >= t.rank_seconds[0]);
  CHECK(waits->collective_seconds(0) >= 0.090);  // most of the 3 x 40 ms
  CHECK(waits->collective_seconds(1) < waits->collective_seconds(0));
  CHECK(waits->receive_seconds(0) == 0);
}
