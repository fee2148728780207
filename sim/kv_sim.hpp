#pragma once
// A discrete-time simulation of KV memory under a request trace: each step
// (a fixed step_time, as a memory-bound decode step is), every running
// request gains one token, finished ones leave and waiting ones are
// admitted FCFS. The paged system drives the real memory::BlockManager
// (blocks on demand, recompute preemption of the newest request); the
// baselines reserve one contiguous region per request with a first-fit
// allocator in the same KV budget, as systems without paging must:
//   orca_max:    the model's maximum length
//   orca_pow2:   the next power of two of the request's final length
//   orca_oracle: exactly the final length (it knows the future)

#include <cstdint>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace pagedserve::sim {

enum class KvSystem { paged, orca_max, orca_pow2, orca_oracle };
const char* kv_system_name(KvSystem s);

struct SimConfig {
  std::int64_t kv_tokens = 15000;  // KV budget in token slots
  int block_size = 16;
  int max_len = 2048;              // model's maximum sequence length
  double step_time = 0.04;         // seconds per decode step
  int max_num_seqs = 256;
  int series_every = 0;            // record running count every N steps (0: never)
};

struct SimResult {
  // Time averages over steps, as fractions of the reserved (or total) slots.
  double utilization = 0;            // real tokens / reserved slots
  double reservation = 0;            // slots held for tokens still to come / reserved
  double internal_fragmentation = 0; // slots that will never hold a token / reserved
  double external_fragmentation = 0; // free slots unusable by the blocked request / capacity
  double mean_running = 0;
  int max_running = 0;
  double normalized_latency = 0;     // mean of (finish - arrival) / output_len, seconds per token
  double mean_queueing_delay = 0;    // seconds from arrival to first admission
  std::int64_t num_preemptions = 0;
  std::int64_t num_steps = 0;
  std::vector<int> running_series;   // sampled every series_every steps
};

// Throws std::invalid_argument when a request can never fit the budget.
SimResult simulate_kv(const std::vector<TraceRequest>& trace, KvSystem system, const SimConfig& config);

// The highest Poisson rate (requests/s) whose mean normalized latency stays
// within `slack` times its unloaded value, step_time (binary search).
double max_sustained_rate(std::vector<TraceRequest> trace, KvSystem system, const SimConfig& config,
                          std::uint64_t seed, double slack = 2.0);

}  // namespace pagedserve::sim
