#pragma once
// Element access for the three storage types; arithmetic is always fp32.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace pagedserve::kernels::cuda {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Reduces over a block of blockDim.x threads (a multiple of 32, <= 1024);
// `scratch` holds 32 floats. Every thread gets the result.
template <bool kMax>
__device__ float block_reduce(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, num_warps = blockDim.x >> 5;
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < num_warps ? scratch[lane] : (kMax ? -INFINITY : 0.0f);
  return kMax ? warp_max(v) : warp_sum(v);
}

// Calls f.template operator()<T>() with the storage type named by `dtype`.
#define PS_DISPATCH_DTYPE(dtype, ...)                                 \
  do {                                                                \
    switch (dtype) {                                                  \
      case ::pagedserve::kernels::DType::f32: {                       \
        using scalar_t = float;                                       \
        __VA_ARGS__();                                                \
        break;                                                        \
      }                                                               \
      case ::pagedserve::kernels::DType::f16: {                       \
        using scalar_t = __half;                                      \
        __VA_ARGS__();                                                \
        break;                                                        \
      }                                                               \
      case ::pagedserve::kernels::DType::bf16: {                      \
        using scalar_t = __nv_bfloat16;                               \
        __VA_ARGS__();                                                \
        break;                                                        \
      }                                                               \
    }                                                                 \
  } while (0)

}  // namespace pagedserve::kernels::cuda
