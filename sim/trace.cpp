#include "sim/trace.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace pagedserve::sim {

namespace {

std::vector<TraceRequest> log_normal_trace(int n, int max_len, double mean_in, double sigma_in, double mean_out,
                                           double sigma_out, std::uint64_t seed) {
  if (n <= 0) throw std::invalid_argument("a trace needs at least one request");
  if (max_len < 2) throw std::invalid_argument("max_len must be at least 2");
  std::mt19937_64 rng(seed);
  // For a log-normal, mean = exp(mu + sigma^2 / 2).
  std::lognormal_distribution<double> in(std::log(mean_in) - sigma_in * sigma_in / 2, sigma_in);
  std::lognormal_distribution<double> out(std::log(mean_out) - sigma_out * sigma_out / 2, sigma_out);
  std::vector<TraceRequest> trace(n);
  for (auto& r : trace) {
    r.input_len = std::clamp(static_cast<int>(std::lround(in(rng))), 1, max_len - 1);
    r.output_len = std::clamp(static_cast<int>(std::lround(out(rng))), 1, max_len - r.input_len);
  }
  return trace;
}

}  // namespace

std::vector<TraceRequest> sharegpt_like(int n, int max_len, std::uint64_t seed) {
  return log_normal_trace(n, max_len, 161, 1.0, 338, 0.9, seed);
}

std::vector<TraceRequest> alpaca_like(int n, int max_len, std::uint64_t seed) {
  return log_normal_trace(n, max_len, 19, 0.6, 58, 0.7, seed);
}

std::vector<TraceRequest> load_trace_file(const std::string& path, int max_len) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read trace file " + path);
  std::vector<TraceRequest> trace;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ss(line);
    TraceRequest r;
    std::string extra;
    if (!(ss >> r.input_len)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected 'input_len output_len'");
    }
    if (!(ss >> r.output_len) || (ss >> extra))
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected 'input_len output_len'");
    if (r.input_len < 1 || r.output_len < 1 || r.input_len + r.output_len > max_len)
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": lengths must be positive and total at most " +
                               std::to_string(max_len));
    trace.push_back(r);
  }
  if (trace.empty()) throw std::runtime_error(path + " holds no requests");
  return trace;
}

void assign_poisson_arrivals(std::vector<TraceRequest>& trace, double rate, std::uint64_t seed) {
  if (!(rate > 0)) throw std::invalid_argument("the request rate must be positive");
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  double t = 0;
  for (auto& r : trace) {
    r.arrival = t;
    t += gap(rng);
  }
}

TraceSummary summarize(const std::vector<TraceRequest>& trace) {
  TraceSummary s;
  for (const auto& r : trace) {
    s.mean_input += r.input_len;
    s.mean_output += r.output_len;
    s.max_total = std::max(s.max_total, r.input_len + r.output_len);
  }
  s.mean_input /= static_cast<double>(trace.size());
  s.mean_output /= static_cast<double>(trace.size());
  return s;
}

}  // namespace pagedserve::sim
