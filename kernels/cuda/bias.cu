// Projection biases (Qwen2's q/k/v): one bias row added to every row of a
// projection's output, after its GEMM.

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void add_bias_kernel(T* __restrict__ x,           // [rows, cols]
                                const T* __restrict__ bias,  // [cols]
                                std::int64_t n, int cols) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    x[i] = from_float<T>(to_float(x[i]) + to_float(bias[i % cols]));
}

}  // namespace

void launch_add_bias(Tensor x, const Tensor& bias, cudaStream_t s) {
  if (bias.numel() != x.cols) throw std::invalid_argument("add_bias: the bias is not one row of x's width");
  if (x.numel() == 0) return;
  const auto blocks = static_cast<int>(std::min<std::int64_t>((x.numel() + kThreads - 1) / kThreads, 65535));
  PS_DISPATCH_DTYPE(x.dtype, [&] {
    add_bias_kernel<scalar_t><<<blocks, kThreads, 0, s>>>(static_cast<scalar_t*>(x.data),
                                                          static_cast<const scalar_t*>(bias.data), x.numel(),
                                                          static_cast<int>(x.cols));
  });
  PS_CUDA_LAUNCH_CHECK();
}

}  // namespace pagedserve::kernels::cuda
