#include "kernels/cpu/gemv.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

namespace pagedserve::kernels::cpu {

namespace {

// Rows per unit of thread work: a multiple of 16 keeps each thread's output
// on whole cache lines.
constexpr std::int64_t kRowsPerChunk = 16;
// Below this many weight bytes a second thread costs more than it saves.
constexpr std::size_t kMinBytesForThreads = 256 * 1024;

std::atomic<int> g_active{-1};

const std::byte* row_at(const WeightView& w, std::int64_t r) {
  return static_cast<const std::byte*>(w.data) + static_cast<std::size_t>(r) * row_bytes(w.dtype, w.cols);
}

// One weight as f32.
float weight_at(const WeightView& w, std::int64_t r, std::int64_t i) {
  const std::byte* row = row_at(w, r);
  switch (w.dtype) {
    case DType::f32: return reinterpret_cast<const float*>(row)[i];
    case DType::f16: return half_to_float(reinterpret_cast<const std::uint16_t*>(row)[i]);
    case DType::bf16: return bf16_to_float(reinterpret_cast<const std::uint16_t*>(row)[i]);
    case DType::q8_0: {
      const auto* scales = reinterpret_cast<const float*>(row);
      const auto* q = reinterpret_cast<const std::int8_t*>(scales + q8_groups(w.cols));
      return scales[i / kQ8GroupSize] * static_cast<float>(q[i]);
    }
  }
  return 0.0f;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Isa active_isa() {
  const int set = g_active.load(std::memory_order_relaxed);
  return set < 0 ? best_isa() : static_cast<Isa>(set);
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) throw std::invalid_argument("this CPU cannot run the " + std::string(isa_name(isa)) + " path");
  g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
}

void gemv_rows_scalar(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  for (std::int64_t r = first; r < last; ++r) {
    for (int b = 0; b < n; ++b) {
      const float* xb = x + static_cast<std::int64_t>(b) * w.cols;
      float sum = 0.0f;
      for (std::int64_t i = 0; i < w.cols; ++i) sum += weight_at(w, r, i) * xb[i];
      out[static_cast<std::int64_t>(b) * w.rows + r] = sum;
    }
  }
}

void gemv_rows(Isa isa, const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  if (n < 1 || n > kGemvMaxRows) throw std::invalid_argument("gemv: 1 to " + std::to_string(kGemvMaxRows) + " activation rows");
  if (w.dtype == DType::f16) isa = Isa::scalar;  // f16 weights are kept only by other backends
  switch (isa) {
    case Isa::avx512: return gemv_rows_avx512(x, n, w, first, last, out);
    case Isa::avx2: return gemv_rows_avx2(x, n, w, first, last, out);
    case Isa::scalar: return gemv_rows_scalar(x, n, w, first, last, out);
  }
}

void gemv(const float* x, int n, const WeightView& w, float* out) {
  const Isa isa = active_isa();
  const std::int64_t chunks = (w.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  const bool threaded = static_cast<std::size_t>(w.rows) * row_bytes(w.dtype, w.cols) >= kMinBytesForThreads;
#pragma omp parallel for schedule(static) if (threaded)
  for (std::int64_t c = 0; c < chunks; ++c)
    gemv_rows(isa, x, n, w, c * kRowsPerChunk, std::min(w.rows, (c + 1) * kRowsPerChunk), out);
}

}  // namespace pagedserve::kernels::cpu
