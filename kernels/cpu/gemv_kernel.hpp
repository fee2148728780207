#pragma once
// The GEMV loop shared by the SIMD paths. Each path's file includes this
// after its `#pragma GCC target`, with its own vector type V:
//   V::vec, V::width, V::zero(), V::load(const float*), V::fma(a, b, c),
//   V::add(a, b), V::sum(v), and row readers V::F32Row, V::Bf16Row,
//   V::Q8Row with load(i) (V::width weights from column i as f32) and at(i).
// Everything here has internal linkage (an unnamed namespace), so each
// path's file keeps its own copy, compiled for its own instruction set.

#include <cmath>
#include <cstdint>

#include "kernels/cpu/gemv.hpp"

namespace pagedserve::kernels::cpu::simd {
namespace {

inline const std::byte* weight_row(const WeightView& w, std::int64_t r) {
  return static_cast<const std::byte*>(w.data) + static_cast<std::size_t>(r) * row_bytes(w.dtype, w.cols);
}

// sums[b] = row . x[b] for N activation rows: each weight is loaded once and
// used N times; two accumulators per row hide the FMA latency. Every N sums
// in the same order, so a sequence's logits do not depend on how many
// others share its step (every step the GEMV serves).
template <class V, int N, class Row>
inline void dot_rows(const float* x, std::int64_t cols, const Row& row, float* sums) {
  constexpr int W = V::width;
  typename V::vec acc[N][2];
  for (int b = 0; b < N; ++b) acc[b][0] = acc[b][1] = V::zero();
  std::int64_t i = 0;
  for (; i + 2 * W <= cols; i += 2 * W) {
    const auto w0 = row.load(i), w1 = row.load(i + W);
    for (int b = 0; b < N; ++b) {
      const float* xb = x + b * cols + i;
      acc[b][0] = V::fma(w0, V::load(xb), acc[b][0]);
      acc[b][1] = V::fma(w1, V::load(xb + W), acc[b][1]);
    }
  }
  for (int b = 0; b < N; ++b) sums[b] = V::sum(V::add(acc[b][0], acc[b][1]));
  // The last columns of a width that is no multiple of 2 * W. An explicit
  // fma: left to itself the compiler fuses (or vectorizes) this loop
  // differently for each N, and the bits would depend on the batch.
  for (; i < cols; ++i) {
    const float wi = row.at(i);
    for (int b = 0; b < N; ++b) sums[b] = std::fma(wi, x[b * cols + i], sums[b]);
  }
}

template <class V, int N, class Row>
inline void rows_of(const float* x, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  for (std::int64_t r = first; r < last; ++r) {
    float sums[N];
    dot_rows<V, N>(x, w.cols, Row(weight_row(w, r), w.cols), sums);
    for (int b = 0; b < N; ++b) out[b * w.rows + r] = sums[b];
  }
}

template <class V, class Row>
inline void rows_of_any_n(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  switch (n) {
    case 1: return rows_of<V, 1, Row>(x, w, first, last, out);
    case 2: return rows_of<V, 2, Row>(x, w, first, last, out);
    case 3: return rows_of<V, 3, Row>(x, w, first, last, out);
    default: return rows_of<V, 4, Row>(x, w, first, last, out);
  }
}

template <class V>
inline void gemv_rows(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  switch (w.dtype) {
    case DType::bf16: return rows_of_any_n<V, typename V::Bf16Row>(x, n, w, first, last, out);
    case DType::q8_0: return rows_of_any_n<V, typename V::Q8Row>(x, n, w, first, last, out);
    default: return rows_of_any_n<V, typename V::F32Row>(x, n, w, first, last, out);
  }
}

// Row readers' common part: where a q8_0 row's scales and values lie.
struct Q8RowLayout {
  const float* scales;
  const std::int8_t* q;
  Q8RowLayout(const std::byte* row, std::int64_t cols)
      : scales(reinterpret_cast<const float*>(row)), q(reinterpret_cast<const std::int8_t*>(scales + q8_groups(cols))) {}
  float at(std::int64_t i) const { return scales[i / kQ8GroupSize] * static_cast<float>(q[i]); }
};

}  // namespace
}  // namespace pagedserve::kernels::cpu::simd
