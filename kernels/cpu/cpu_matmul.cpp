// The CPU backend's matmul: GEMV kernels of our own for the few rows of a
// decode step, OpenBLAS for prefill and large batches.

#include <cblas.h>

#include <algorithm>
#include <atomic>

#include "kernels/cpu/cpu_ops.hpp"

namespace pagedserve::kernels::cpu {

namespace {

std::atomic<int> g_gemv_up_to_rows{kDefaultGemvUpToRows};

// Weight rows converted to f32 at a time for sgemm: 128 rows of a 4096-wide
// matrix are 2 MiB, about one core's L2.
constexpr std::int64_t kTileRows = 128;

// out [n, ldc] (columns from the pointer on) = x [n, in] * w [rows, in]^T
void sgemm(const float* x, std::int64_t n, const float* w, std::int64_t rows, std::int64_t in, float* out,
           std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(rows),
              static_cast<int>(in), 1.0f, x, static_cast<int>(in), w, static_cast<int>(in), 0.0f, out,
              static_cast<int>(ldc));
}

// Converts weight rows [first, first + count) to f32 into `tile`.
void convert_tile(const WeightView& w, std::int64_t first, std::int64_t count, float* tile) {
  const auto* base = static_cast<const std::byte*>(w.data);
  const std::size_t stride = row_bytes(w.dtype, w.cols);
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < count; ++r)
    convert_rows_to_f32(base + (first + r) * stride, w.dtype, 1, w.cols, tile + r * w.cols);
}

// Passes of kGemvMaxRows rows: each reads the weights once more.
void gemv_passes(const float* x, std::int64_t n, const WeightView& w, float* out) {
  for (std::int64_t first = 0; first < n; first += kGemvMaxRows) {
    const int rows = static_cast<int>(std::min<std::int64_t>(kGemvMaxRows, n - first));
    gemv(x + first * w.cols, rows, w, out + first * w.rows);
  }
}

}  // namespace

int gemv_up_to_rows() { return g_gemv_up_to_rows.load(std::memory_order_relaxed); }
void set_gemv_up_to_rows(int rows) { g_gemv_up_to_rows.store(rows, std::memory_order_relaxed); }

void matmul(const float* x, std::int64_t n, const WeightView& w, float* out, std::vector<float>& tile) {
  if (n <= gemv_up_to_rows()) return gemv_passes(x, n, w, out);
  if (w.dtype == DType::f32) return sgemm(x, n, static_cast<const float*>(w.data), w.rows, w.cols, out, w.rows);
  const std::size_t tile_elems = static_cast<std::size_t>(std::min(kTileRows, w.rows) * w.cols);
  if (tile.size() < tile_elems) tile.resize(tile_elems);
  for (std::int64_t first = 0; first < w.rows; first += kTileRows) {
    const std::int64_t count = std::min(kTileRows, w.rows - first);
    convert_tile(w, first, count, tile.data());
    sgemm(x, n, tile.data(), count, w.cols, out + first, w.rows);
  }
}

void matmul(const float* x, const float* w, std::int64_t n, std::int64_t in, std::int64_t out_features, float* out) {
  std::vector<float> unused;  // f32 weights never need a tile
  matmul(x, n, WeightView{w, DType::f32, out_features, in}, out, unused);
}

}  // namespace pagedserve::kernels::cpu
