// The AVX2 + FMA GEMV path: 8 weights a vector. Compiled for AVX2 here
// alone; gemv() calls it only on a CPU that has it.

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>

#include "kernels/cpu/gemv_kernel.hpp"

namespace pagedserve::kernels::cpu {

namespace {

struct Avx2 {
  using vec = __m256;
  static constexpr int width = 8;
  static vec zero() { return _mm256_setzero_ps(); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static float sum(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  struct F32Row {
    const float* w;
    F32Row(const std::byte* row, std::int64_t) : w(reinterpret_cast<const float*>(row)) {}
    vec load(std::int64_t i) const { return _mm256_loadu_ps(w + i); }
    float at(std::int64_t i) const { return w[i]; }
  };
  // bf16 is the top half of an f32: widen to 32 bits and shift up.
  struct Bf16Row {
    const std::uint16_t* w;
    Bf16Row(const std::byte* row, std::int64_t) : w(reinterpret_cast<const std::uint16_t*>(row)) {}
    vec load(std::int64_t i) const {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i));
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    float at(std::int64_t i) const { return bf16_to_float(w[i]); }
  };
  // 8 values never straddle two groups of 32 (i is a multiple of 8).
  struct Q8Row : simd::Q8RowLayout {
    using Q8RowLayout::Q8RowLayout;
    vec load(std::int64_t i) const {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
      return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), _mm256_set1_ps(scales[i / kQ8GroupSize]));
    }
  };
};

}  // namespace

void gemv_rows_avx2(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  simd::gemv_rows<Avx2>(x, n, w, first, last, out);
}

}  // namespace pagedserve::kernels::cpu

#pragma GCC pop_options
