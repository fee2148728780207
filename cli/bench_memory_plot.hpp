#pragma once
// Charts of `pagedserve bench memory`, drawn by gnuplot into PNG files.

#include <map>
#include <string>
#include <vector>

#include "sim/kv_sim.hpp"

namespace pagedserve::cli {

struct BlockSizePoint {
  int block_size = 0;
  double utilization = 0;
  double max_rate = -1;
};

struct MemoryPlotData {
  std::map<std::string, double> utilization;                      // per system
  std::map<std::string, std::vector<int>> running_series;         // per system
  double series_step_seconds = 1;
  std::map<std::string, std::vector<std::pair<double, double>>> latency_curves;  // rate -> normalized latency
  std::map<int, double> parallel_saving, beam_saving;             // percent
};

// Normalized latency of every system at rates up to 1.5x `paged_max_rate`.
std::map<std::string, std::vector<std::pair<double, double>>> latency_curves(
    std::vector<sim::TraceRequest> trace, const sim::SimConfig& config, std::uint64_t seed, double paged_max_rate);

// Writes utilization.png, running.png, latency.png and sharing.png into
// `dir` (created if needed). Throws std::runtime_error if gnuplot fails.
void write_memory_plots(const std::string& dir, const MemoryPlotData& data);

}  // namespace pagedserve::cli
