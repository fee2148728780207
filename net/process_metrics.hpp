#pragma once
// The standard process_* families every Prometheus client library exports
// (CPU time, memory, file descriptors, start time), read from /proc.

#include "net/prometheus.hpp"

namespace pagedserve::net {

// Writes what this system reports; a family it cannot read is left out.
void process_series(MetricsText& t);

}  // namespace pagedserve::net
