#pragma once
// The CPU backend: fp32 everywhere, OpenBLAS for GEMMs, OpenMP across rows,
// heads and sequences. It serves the embedded model on any machine and is
// the reference every other backend is tested against, so its arithmetic
// follows llama2.c's where that decides exact token parity.

#include <memory>

#include "kernels/backend.hpp"

namespace pagedserve::kernels {

std::unique_ptr<Backend> make_cpu_backend();

}  // namespace pagedserve::kernels
