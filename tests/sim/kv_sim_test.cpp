#include "sim/kv_sim.hpp"

#include <catch2/catch.hpp>

#include "sim/sharing_sim.hpp"

using namespace pagedserve::sim;

namespace {

SimConfig small_config() {
  SimConfig c;
  c.kv_tokens = 4000;
  c.max_len = 1024;
  c.block_size = 16;
  return c;
}

}  // namespace

TEST_CASE("one request alone takes one step per token and wastes only its last block", "[kv_sim]") {
  std::vector<TraceRequest> trace{{100, 50, 0.0}};
  auto r = simulate_kv(trace, KvSystem::paged, small_config());
  CHECK(r.num_steps == 50);
  CHECK(r.normalized_latency == Approx(0.04));
  CHECK(r.utilization > 0.9);
  CHECK(r.num_preemptions == 0);
  auto max = simulate_kv(trace, KvSystem::orca_max, small_config());
  CHECK(max.utilization < 0.15);  // ~125 of 1024 reserved slots in use on average
  CHECK(max.internal_fragmentation > 0.8);
}

TEST_CASE("paging holds more requests and real tokens than contiguous reservation", "[kv_sim]") {
  auto trace = sharegpt_like(200, 1024, 3);
  const auto c = small_config();
  auto paged = simulate_kv(trace, KvSystem::paged, c);
  auto oracle = simulate_kv(trace, KvSystem::orca_oracle, c);
  auto pow2 = simulate_kv(trace, KvSystem::orca_pow2, c);
  auto max = simulate_kv(trace, KvSystem::orca_max, c);
  for (const auto* r : {&paged, &oracle, &pow2, &max}) {
    CHECK(r->utilization > 0);
    CHECK(r->utilization <= 1.0);
    CHECK(r->reservation + r->internal_fragmentation + r->utilization == Approx(1.0));
  }
  CHECK(paged.utilization > 0.96);
  CHECK(paged.external_fragmentation == 0);
  CHECK(paged.mean_running > oracle.mean_running);
  CHECK(oracle.utilization > max.utilization);
  CHECK(max.max_running == c.kv_tokens / c.max_len);  // orca_max fits exactly floor(T / max_len)
  CHECK(oracle.reservation > 0);                    // it holds slots for tokens to come
}

TEST_CASE("paging sustains a higher request rate", "[kv_sim]") {
  auto trace = sharegpt_like(150, 1024, 4);
  const auto c = small_config();
  const double paged = max_sustained_rate(trace, KvSystem::paged, c, 1);
  const double oracle = max_sustained_rate(trace, KvSystem::orca_oracle, c, 1);
  const double max = max_sustained_rate(trace, KvSystem::orca_max, c, 1);
  CHECK(paged > oracle);
  CHECK(oracle > max);
  CHECK(max > 0);
}

TEST_CASE("requests that can never fit are refused", "[kv_sim]") {
  SimConfig c = small_config();
  std::vector<TraceRequest> trace{{1000, 100, 0.0}};
  CHECK_THROWS_AS(simulate_kv(trace, KvSystem::paged, c), std::invalid_argument);
}

TEST_CASE("sharing saves memory, more with more samples and for beams", "[sharing_sim]") {
  auto trace = alpaca_like(200, 2048, 5);
  double last = 0;
  for (int n : {2, 4, 6}) {
    auto p = parallel_sampling_saving(trace, n, 16, 1);
    CHECK(p.saving() > last);
    CHECK(p.saving() < 1.0);
    last = p.saving();
    auto b = beam_search_saving(trace, n, 16, 1);
    CHECK(b.saving() > p.saving());
  }
}
