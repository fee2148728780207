// The GPU tests' main: without a CUDA device they are skipped (exit 77,
// which ctest reports as skipped), never failed.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "kernels/cuda/cuda_backend.hpp"

int main(int argc, char** argv) {
  if (pagedserve::kernels::cuda_device_count() == 0) {
    std::printf("SKIPPED: no CUDA device (GPU tests run on a GPU host)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
