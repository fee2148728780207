// out [m, n] = x [m, k] * w [n, k]^T for a few rows (m <= 8): decoding one
// to a few sequences. Such a product is a read of the whole weight matrix;
// each warp streams one weight row with 16-byte loads (4 in flight a lane)
// and dots it with every row of x, so the weights are read once, at close
// to the memory's bandwidth, where a general GEMM tiles for reuse that m <= 8
// rows cannot give.

#include <cstdint>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxRows = 8;
constexpr int kUnroll = 4;

template <typename T>
__device__ __forceinline__ float dot16(const uint4& a, const uint4& b) {
  const T* x = reinterpret_cast<const T*>(&a);
  const T* y = reinterpret_cast<const T*>(&b);
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < static_cast<int>(16 / sizeof(T)); ++i) s += to_float(x[i]) * to_float(y[i]);
  return s;
}

template <typename T, int M>
__global__ void __launch_bounds__(kWarpsPerBlock * 32) gemv_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                                                   T* __restrict__ out, int n, int k) {
  constexpr int kVec = 16 / sizeof(T);
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (row >= n) return;
  const uint4* wrow = reinterpret_cast<const uint4*>(w + static_cast<std::int64_t>(row) * k);
  const int vecs = k / kVec;
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.0f;
  int v = lane;
  for (; v + 32 * (kUnroll - 1) < vecs; v += 32 * kUnroll) {
    uint4 wv[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) wv[u] = __ldg(wrow + v + 32 * u);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const uint4* xrow = reinterpret_cast<const uint4*>(x + static_cast<std::int64_t>(m) * k);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) acc[m] += dot16<T>(wv[u], __ldg(xrow + v + 32 * u));
    }
  }
  for (; v < vecs; v += 32) {
    const uint4 wv = __ldg(wrow + v);
#pragma unroll
    for (int m = 0; m < M; ++m) acc[m] += dot16<T>(wv, __ldg(reinterpret_cast<const uint4*>(x + static_cast<std::int64_t>(m) * k) + v));
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float s = warp_sum(acc[m]);
    if (lane == 0) out[static_cast<std::int64_t>(m) * n + row] = from_float<T>(s);
  }
}

template <typename T>
void launch_rows(const Tensor& x, const Tensor& w, Tensor out, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>((w.rows + kWarpsPerBlock - 1) / kWarpsPerBlock));
  const auto* xp = static_cast<const T*>(x.data);
  const auto* wp = static_cast<const T*>(w.data);
  auto* op = static_cast<T*>(out.data);
  const int n = static_cast<int>(w.rows), k = static_cast<int>(w.cols);
  switch (x.rows) {
#define PS_GEMV_CASE(M) \
  case M: gemv_kernel<T, M><<<grid, kWarpsPerBlock * 32, 0, s>>>(xp, wp, op, n, k); break;
    PS_GEMV_CASE(1) PS_GEMV_CASE(2) PS_GEMV_CASE(3) PS_GEMV_CASE(4)
    PS_GEMV_CASE(5) PS_GEMV_CASE(6) PS_GEMV_CASE(7) PS_GEMV_CASE(8)
#undef PS_GEMV_CASE
    default: throw std::logic_error("gemv: more rows than it takes");
  }
  PS_CUDA_LAUNCH_CHECK();
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

bool gemv_applies(const Tensor& x, const Tensor& w, const Tensor& out) {
  const std::size_t row_bytes = static_cast<std::size_t>(x.cols) * dtype_size(x.dtype);
  return x.rows >= 1 && x.rows <= kMaxRows && x.dtype == w.dtype && x.dtype == out.dtype && row_bytes % 16 == 0 &&
         aligned16(x.data) && aligned16(w.data);
}

void launch_gemv(const Tensor& x, const Tensor& w, Tensor out, cudaStream_t s) {
  PS_DISPATCH_DTYPE(x.dtype, [&] { launch_rows<scalar_t>(x, w, out, s); });
}

}  // namespace pagedserve::kernels::cuda
