#pragma once
// The CUDA backend: PagedAttention and element-wise kernels of its own,
// cuBLAS for every GEMM. Activations and the KV cache use one storage type
// (fp16 by default; fp32 for parity tests against the CPU backend); weights
// are converted to it at upload. Sampling runs on the GPU too
// (device_sampler.hpp): only token ids and requested logprobs come back.

#include <memory>

#include "kernels/backend.hpp"

namespace pagedserve::kernels {

struct CudaBackendOptions {
  int device = 0;
  DType activation_dtype = DType::f16;
};

// Throws std::runtime_error when no CUDA device is present or the index is
// out of range.
std::unique_ptr<Backend> make_cuda_backend(int device_index);
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options);
int cuda_device_count();  // 0 when no driver or device

}  // namespace pagedserve::kernels
