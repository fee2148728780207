#pragma once
// How many KV blocks fit, sized as vLLM does: after loading the weights and
// running a profiling forward pass at the largest batch, a fraction
// (gpu_memory_utilization) of the device's memory, minus the weights and the
// peak activations, goes to KV blocks. The CPU swap pool is swap_space GiB.

#include <cstddef>
#include <cstdint>

namespace pagedserve::kernels {

struct PoolSizingInput {
  std::size_t total_device_bytes = 0;
  double gpu_memory_utilization = 0.9;  // (0, 1]
  std::size_t weight_bytes = 0;
  std::size_t peak_activation_bytes = 0;  // measured by the profiling pass
  std::size_t other_bytes = 0;            // e.g. the CUDA context, cuBLAS workspace
  std::size_t bytes_per_block = 0;
  double swap_space_gib = 4.0;
};

struct PoolSizes {
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
};

// Throws std::invalid_argument for out-of-range inputs, and
// std::runtime_error saying how much memory is missing when not even one
// block fits.
PoolSizes size_kv_pools(const PoolSizingInput& in);

}  // namespace pagedserve::kernels
