#include "net/prometheus.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pagedserve::net {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bounds must be finite");
    if (i && bounds_[i] <= bounds_[i - 1]) throw std::invalid_argument("histogram bounds must be ascending");
  }
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  const auto slot = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[slot];
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  std::uint64_t running = 0;
  for (auto c : counts_) s.cumulative.push_back(running += c);
  s.sum = sum_;
  s.count = running;
  return s;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // The shortest text that reads back as exactly v (0.005, not 0.0050000000000000001).
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  std::string h;
  for (char c : help) {
    if (c == '\\') h += "\\\\";
    else if (c == '\n') h += "\\n";
    else h += c;
  }
  out_ += "# HELP " + std::string(name) + " " + h + "\n# TYPE " + std::string(name) + " " + std::string(type) + "\n";
}

void MetricsText::metric(std::string_view name, std::string_view type, std::string_view help, double value) {
  family(name, type, help);
  sample(name, value);
}

void MetricsText::sample(std::string_view name, double value, const Labels& labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i)
      out_ += (i ? "," : "") + labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
    out_ += '}';
  }
  out_ += ' ' + format_metric_value(value) + '\n';
}

void MetricsText::histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& h,
                            const Labels& labels) {
  family(name, "histogram", help);
  const std::string base(name);
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    Labels with_le = labels;
    with_le.emplace_back("le", i < h.bounds.size() ? format_metric_value(h.bounds[i]) : "+Inf");
    sample(base + "_bucket", static_cast<double>(h.cumulative[i]), with_le);
  }
  sample(base + "_sum", h.sum, labels);
  sample(base + "_count", static_cast<double>(h.count), labels);
}

}  // namespace pagedserve::net
