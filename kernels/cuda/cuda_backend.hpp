#pragma once
// The CUDA backend: PagedAttention and element-wise kernels of its own,
// cuBLAS for every GEMM. Activations and the KV cache use one storage type
// (fp16 by default; fp32 for parity tests against the CPU backend); weights
// are converted to it at upload. Sampling runs on the GPU too
// (device_sampler.hpp): only token ids and requested logprobs come back.

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/backend.hpp"

namespace pagedserve::kernels {

// The PagedAttention kernel: `fast` (vectorised, K/V read once per GQA group,
// split-K) wherever it supports the shape, or `simple`, the first kernel,
// kept as a known-good fallback.
enum class AttentionKernel : std::uint8_t { fast, simple };

struct CudaBackendOptions {
  int device = 0;
  DType activation_dtype = DType::f16;
  AttentionKernel attention_kernel = AttentionKernel::fast;
  int attention_partition = 512;  // keys per split-K partition
  bool graphs = true;             // decode steps recorded and replayed (CUDA graphs)
};

// Where a CUDA backend computes: its device and its compute stream (a
// cudaStream_t), on which everything of a step is enqueued in order. The
// collectives between GPUs (nccl_collective.hpp) run there too. Throws
// std::invalid_argument for a backend that is not this module's CUDA one.
struct CudaPlace {
  int device = 0;
  void* stream = nullptr;
};
CudaPlace cuda_place_of(Backend& backend);

// Throws std::runtime_error when no CUDA device is usable or the index is
// out of range, with the runtime's own reason.
std::unique_ptr<Backend> make_cuda_backend(int device_index);
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options);

// What the CUDA runtime says about this host: how many devices it can use,
// and when none, why ("" when it simply found none).
struct CudaProbe {
  int device_count = 0;
  std::string error;
};
CudaProbe probe_cuda();
int cuda_device_count();  // probe_cuda().device_count
// Whether the host shows an NVIDIA GPU at all (its driver's device files),
// whatever the runtime makes of it: a GPU that is visible but unusable is a
// failure, not a reason to skip.
bool nvidia_gpu_visible();

}  // namespace pagedserve::kernels
