#pragma once
// The CPU backend: f32 activations and KV cache, weights in f32, bf16 or
// int8 (q8_0), GEMV kernels of its own for decode and OpenBLAS for larger
// GEMMs, OpenMP across rows, heads and sequences. It serves the embedded model on any machine and is
// the reference every other backend is tested against, so its arithmetic
// follows llama2.c's where that decides exact token parity.

#include <memory>

#include "kernels/backend.hpp"

namespace pagedserve::kernels {

// `weights`: the type weight matrices are kept in (f32, bf16 or q8_0).
std::unique_ptr<Backend> make_cpu_backend(DType weights = DType::f32);

}  // namespace pagedserve::kernels
