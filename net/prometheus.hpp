#pragma once
// The Prometheus text exposition format (version 0.0.4): HELP and TYPE
// lines, then samples; histograms as cumulative _bucket{le=...} series with
// _sum and _count. And a thread-safe histogram to feed it.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pagedserve::net {

// Invariant: counts_[i] is the number of observations <= bounds_[i] and
// > bounds_[i-1]; the last slot counts those above every bound (+Inf).
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;             // ascending upper bounds
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };

  // `bounds` must be ascending and finite (throws std::invalid_argument).
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// Builds one exposition: each family's HELP and TYPE once, before its samples.
class MetricsText {
 public:
  // type: "gauge" or "counter" (a counter's name should end in _total).
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, const Labels& labels = {});
  // A family of one unlabelled sample.
  void metric(std::string_view name, std::string_view type, std::string_view help, double value);
  // A histogram family of one series; `labels` go on each of its samples.
  void histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& h, const Labels& labels = {});
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// A sample value as Prometheus writes it (integers without a fraction,
// +Inf, -Inf, NaN).
std::string format_metric_value(double v);

// A label value with \\, \" and \n escaped.
std::string escape_label_value(std::string_view v);

}  // namespace pagedserve::net
