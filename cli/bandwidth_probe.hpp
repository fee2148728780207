#pragma once
// A STREAM-like measure of this machine's memory bandwidth, the ceiling a
// batch-1 decode step (which reads every weight once) is held against.

#include <cstddef>

namespace pagedserve::cli {

struct MemoryBandwidth {
  int threads = 0;
  std::size_t array_bytes = 0;
  double copy_gbps = 0;  // STREAM copy: a[i] = b[i], bytes read + written
  double read_gbps = 0;  // a sum over one array: bytes read, as a GEMV reads weights
};

// Best of `repeats` passes over arrays of `array_bytes` each (far beyond the
// last-level cache), on every OpenMP thread, as STREAM reports.
MemoryBandwidth measure_memory_bandwidth(std::size_t array_bytes = std::size_t{256} << 20, int repeats = 5);

}  // namespace pagedserve::cli
