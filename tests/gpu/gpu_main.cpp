// The GPU tests' main. Without an NVIDIA GPU they are skipped (exit 77,
// which ctest reports as skipped). A GPU the host shows but CUDA cannot use
// (a driver mismatch, a broken install) fails loudly instead.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "kernels/cuda/cuda_backend.hpp"

int main(int argc, char** argv) {
  const auto probe = pagedserve::kernels::probe_cuda();
  if (probe.device_count == 0) {
    if (pagedserve::kernels::nvidia_gpu_visible()) {
      std::fprintf(stderr, "FAILED: this host shows an NVIDIA GPU but CUDA cannot use it: %s\n",
                   probe.error.empty() ? "no device reported" : probe.error.c_str());
      return 1;
    }
    std::printf("SKIPPED: no CUDA device (GPU tests run on a GPU host)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
