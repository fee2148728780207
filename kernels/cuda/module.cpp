// The entry point of libpagedserve_cuda.so, which kernels/backend.cpp loads
// with dlopen when a CUDA device is asked for. Errors travel as exceptions
// (the module and the executable share one C++ runtime).

#include "kernels/cuda/cuda_backend.hpp"

extern "C" pagedserve::kernels::Backend* pagedserve_cuda_make_backend(
    const pagedserve::kernels::CudaBackendOptions* options) {
  return pagedserve::kernels::make_cuda_backend(*options).release();
}
