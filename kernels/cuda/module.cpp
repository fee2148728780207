// The entry points of libpagedserve_cuda.so, which kernels/backend.cpp loads
// with dlopen when a CUDA device (or a question about CUDA) comes up. Errors
// travel as exceptions (the module and the executable share one C++
// runtime).

#include <string>

#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/nccl_collective.hpp"

extern "C" pagedserve::kernels::Backend* pagedserve_cuda_make_backend(
    const pagedserve::kernels::CudaBackendOptions* options) {
  return pagedserve::kernels::make_cuda_backend(*options).release();
}

// How many CUDA devices the runtime offers, and when none, why.
extern "C" void pagedserve_cuda_probe(int* count, std::string* error) {
  const auto probe = pagedserve::kernels::probe_cuda();
  *count = probe.device_count;
  *error = probe.error;
}

// An NCCL rank over a backend this module made (pagedserve_cuda_make_backend).
extern "C" pagedserve::kernels::NcclCollective* pagedserve_cuda_make_nccl_collective(
    const std::shared_ptr<const pagedserve::kernels::NcclLibrary>* library, pagedserve::kernels::Backend* backend,
    const pagedserve::kernels::NcclUniqueId* id, int rank, int world) {
  return pagedserve::kernels::cuda::make_nccl_collective(*library, *backend, *id, rank, world).release();
}
