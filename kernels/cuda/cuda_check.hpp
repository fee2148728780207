#pragma once
// Every CUDA and cuBLAS call is checked; a failure throws with the call,
// where it was made, and the library's own description.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace pagedserve::kernels::cuda {

[[noreturn]] inline void throw_cuda_error(const char* call, const char* file, int line, const std::string& what) {
  throw std::runtime_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " + what);
}

}  // namespace pagedserve::kernels::cuda

#define PS_CUDA_CHECK(call)                                                                                \
  do {                                                                                                     \
    cudaError_t ps_err_ = (call);                                                                          \
    if (ps_err_ != cudaSuccess)                                                                            \
      ::pagedserve::kernels::cuda::throw_cuda_error(#call, __FILE__, __LINE__, cudaGetErrorString(ps_err_)); \
  } while (0)

#define PS_CUBLAS_CHECK(call)                                                                                 \
  do {                                                                                                        \
    cublasStatus_t ps_status_ = (call);                                                                       \
    if (ps_status_ != CUBLAS_STATUS_SUCCESS)                                                                  \
      ::pagedserve::kernels::cuda::throw_cuda_error(#call, __FILE__, __LINE__, cublasGetStatusString(ps_status_)); \
  } while (0)

// After a kernel launch: launch errors surface here, not at the next call.
#define PS_CUDA_LAUNCH_CHECK() PS_CUDA_CHECK(cudaGetLastError())
