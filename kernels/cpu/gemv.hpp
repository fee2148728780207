#pragma once
// Decode GEMV: out [n, rows] = x [n, cols] * w [rows, cols]^T for a few
// activation rows (n <= kGemvMaxRows), weights in f32, bf16 or q8_0.
//
// At decode a step reads every weight once per token and does two flops per
// weight, so the step is bound by memory bandwidth: these kernels stream each
// weight row once, against all n activation rows, with the weight converted
// to f32 in registers (no rounding of the activations). Threads split the
// output rows. One path per instruction set, chosen at run time; the scalar
// path is the reference the others are tested against.

#include <cstdint>
#include <string_view>

#include "kernels/tensor.hpp"

namespace pagedserve::kernels::cpu {

enum class Isa : std::uint8_t { scalar, avx2, avx512 };

// Activation rows handled in one pass over the weights.
inline constexpr int kGemvMaxRows = 4;

std::string_view isa_name(Isa isa);
// Whether this CPU (and its OS) runs the path: avx2 needs AVX2+FMA+F16C,
// avx512 needs AVX-512 F/BW/VL.
bool isa_supported(Isa isa);
Isa best_isa();
// The path gemv() takes: best_isa() unless set (tests and benchmarks compare
// paths); throws std::invalid_argument for one the CPU lacks.
Isa active_isa();
void set_active_isa(Isa isa);

// A weight matrix [rows, cols] as the backend keeps it.
struct WeightView {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

// out [n, w.rows] = x [n, w.cols] * w^T, n in 1..kGemvMaxRows, on the
// active path, threads over output rows.
void gemv(const float* x, int n, const WeightView& w, float* out);

// One path over output rows [first, last) on the calling thread.
void gemv_rows(Isa isa, const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out);

// The paths themselves (gemv_rows dispatches to them).
void gemv_rows_scalar(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out);
void gemv_rows_avx2(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out);
void gemv_rows_avx512(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out);

}  // namespace pagedserve::kernels::cpu
