#pragma once
// Request traces for the memory benchmark: (input_len, output_len) pairs
// with Poisson arrival times.

#include <cstdint>
#include <string>
#include <vector>

namespace pagedserve::sim {

struct TraceRequest {
  int input_len = 0;
  int output_len = 0;
  double arrival = 0;  // seconds
};

// Seeded log-normal lengths with the given means, clipped so that
// input + output <= max_len (documented in docs/PERFORMANCE.md):
//   ShareGPT-like: input mean 161, output mean 338, sigma 1.0 / 0.9
//   Alpaca-like:   input mean 19,  output mean 58,  sigma 0.6 / 0.7
std::vector<TraceRequest> sharegpt_like(int num_requests, int max_len, std::uint64_t seed);
std::vector<TraceRequest> alpaca_like(int num_requests, int max_len, std::uint64_t seed);
// "input_len output_len" per line ('#' starts a comment); errors name the line.
std::vector<TraceRequest> load_trace_file(const std::string& path, int max_len);
// Sets arrival times of a Poisson process of `rate` requests per second.
void assign_poisson_arrivals(std::vector<TraceRequest>& trace, double rate, std::uint64_t seed);

struct TraceSummary {
  double mean_input = 0, mean_output = 0;
  int max_total = 0;
};
TraceSummary summarize(const std::vector<TraceRequest>& trace);

}  // namespace pagedserve::sim
