#pragma once
// The memory simulation checked against the real engine: the same trace,
// scaled to the bundled model's length, run through the CPU backend.

#include <string>
#include <vector>

#include "sim/kv_sim.hpp"

namespace pagedserve::cli {

struct EngineCheck {
  int num_requests = 0;
  std::int64_t kv_tokens = 0;
  double sim_utilization = 0, engine_utilization = 0;
  std::int64_t sim_preemptions = 0, engine_preemptions = 0;
  int sim_max_running = 0, engine_max_running = 0;
};

// Scales the first `num_requests` of `trace` (lengths and KV budget) by
// model max length / config.max_len; all requests arrive at once.
EngineCheck check_against_engine(const std::vector<sim::TraceRequest>& trace, const sim::SimConfig& config,
                                 const std::string& model_path, int num_requests);

}  // namespace pagedserve::cli
