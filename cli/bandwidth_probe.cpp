#include "cli/bandwidth_probe.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace pagedserve::cli {

namespace {

template <class F>
double best_seconds(int repeats, F&& pass) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    pass();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Independent partial sums, one a lane, so the adds vectorise and never wait
// on each other: the loop runs at the speed memory delivers.
constexpr std::int64_t kLanes = 16;

float sum_lanes(const float* p, std::int64_t n) {
  float lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::int64_t j = 0; j < kLanes; ++j) lanes[j] += p[i + j];
  float total = 0;
  for (; i < n; ++i) total += p[i];
  for (float l : lanes) total += l;
  return total;
}

}  // namespace

MemoryBandwidth measure_memory_bandwidth(std::size_t array_bytes, int repeats) {
  const auto n = static_cast<std::int64_t>(array_bytes / sizeof(float));
  std::vector<float> a(n), b(n);
  // Every thread first touches the pages it will stream (as STREAM does).
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) a[i] = 1.0f, b[i] = 2.0f;
  float* pa = a.data();
  const float* pb = b.data();
  MemoryBandwidth m;
  m.threads = omp_get_max_threads();
  m.array_bytes = array_bytes;
  const double copy = best_seconds(repeats, [&] {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) pa[i] = pb[i];
  });
  [[maybe_unused]] static volatile float sink;  // the sums are kept, so the reads are not optimised away
  const double read = best_seconds(repeats, [&] {
#pragma omp parallel
    {
      const std::int64_t per = n / omp_get_num_threads() / kLanes * kLanes;
      const std::int64_t begin = per * omp_get_thread_num();
      sink = sum_lanes(pb + begin, omp_get_thread_num() + 1 == omp_get_num_threads() ? n - begin : per);
    }
  });
  m.copy_gbps = 2.0 * static_cast<double>(array_bytes) / copy / 1e9;
  m.read_gbps = static_cast<double>(array_bytes) / read / 1e9;
  return m;
}

}  // namespace pagedserve::cli
