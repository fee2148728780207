#include "kernels/kv_pool_sizing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace pagedserve::kernels {

namespace {
std::string mib(double bytes) { return std::to_string(static_cast<long long>(std::ceil(bytes / (1 << 20)))) + " MiB"; }
}  // namespace

PoolSizes size_kv_pools(const PoolSizingInput& in) {
  if (!(in.gpu_memory_utilization > 0 && in.gpu_memory_utilization <= 1))
    throw std::invalid_argument("gpu_memory_utilization must be in (0, 1]");
  if (in.bytes_per_block == 0) throw std::invalid_argument("bytes_per_block must be positive");
  if (!(in.swap_space_gib >= 0 && in.swap_space_gib <= 1024)) throw std::invalid_argument("swap_space must be in [0, 1024] GiB");
  const double budget = static_cast<double>(in.total_device_bytes) * in.gpu_memory_utilization;
  const double used = static_cast<double>(in.weight_bytes) + static_cast<double>(in.peak_activation_bytes) +
                      static_cast<double>(in.other_bytes);
  const double for_kv = budget - used;
  if (for_kv < static_cast<double>(in.bytes_per_block))
    throw std::runtime_error("no room for the KV cache: " + mib(budget) + " usable (gpu_memory_utilization " +
                             std::to_string(in.gpu_memory_utilization) + ") but weights and activations take " + mib(used) +
                             "; at least " + mib(static_cast<double>(in.bytes_per_block) - for_kv) +
                             " more is needed for one block");
  PoolSizes p;
  p.num_gpu_blocks = static_cast<int>(std::min(for_kv / static_cast<double>(in.bytes_per_block), 2.0e9));
  p.num_cpu_blocks = static_cast<int>(
      std::min(in.swap_space_gib * 1073741824.0 / static_cast<double>(in.bytes_per_block), 2.0e9));
  return p;
}

}  // namespace pagedserve::kernels
