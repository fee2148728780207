// The AVX-512 GEMV path: 16 weights a vector. Compiled for AVX-512 here
// alone; gemv() calls it only on a CPU that has it.

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
// GCC 12's AVX-512 intrinsics pass an undefined register as the (unused)
// merge source of full-mask operations, which it then warns about.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/gemv_kernel.hpp"

namespace pagedserve::kernels::cpu {

namespace {

struct Avx512 {
  using vec = __m512;
  static constexpr int width = 16;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  // Halves added down to one lane (GCC 12's _mm512_reduce_add_ps warns of an
  // undefined register it reads on purpose).
  static float sum(vec v) {
    const __m256 halves = _mm256_add_ps(_mm512_castps512_ps256(v),
                                        _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2))));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(halves), _mm256_extractf128_ps(halves, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }

  struct F32Row {
    const float* w;
    F32Row(const std::byte* row, std::int64_t) : w(reinterpret_cast<const float*>(row)) {}
    vec load(std::int64_t i) const { return _mm512_loadu_ps(w + i); }
    float at(std::int64_t i) const { return w[i]; }
  };
  // bf16 is the top half of an f32: widen to 32 bits and shift up.
  struct Bf16Row {
    const std::uint16_t* w;
    Bf16Row(const std::byte* row, std::int64_t) : w(reinterpret_cast<const std::uint16_t*>(row)) {}
    vec load(std::int64_t i) const {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i));
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    float at(std::int64_t i) const { return bf16_to_float(w[i]); }
  };
  // 16 values never straddle two groups of 32 (i is a multiple of 16).
  struct Q8Row : simd::Q8RowLayout {
    using Q8RowLayout::Q8RowLayout;
    vec load(std::int64_t i) const {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
      return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), _mm512_set1_ps(scales[i / kQ8GroupSize]));
    }
  };
};

}  // namespace

void gemv_rows_avx512(const float* x, int n, const WeightView& w, std::int64_t first, std::int64_t last, float* out) {
  simd::gemv_rows<Avx512>(x, n, w, first, last, out);
}

}  // namespace pagedserve::kernels::cpu

#pragma GCC diagnostic pop
#pragma GCC pop_options
