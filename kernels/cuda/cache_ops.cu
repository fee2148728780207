// Writing new K/V into their slots of the block-major pool.
// (Copy-on-write and swap are whole contiguous blocks: cudaMemcpyAsync in
// cuda_backend.cu.)

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

template <typename T>
__global__ void write_kv_kernel(const T* __restrict__ k,  // [num_tokens, kv_heads*hs]
                                const T* __restrict__ v,  // [num_tokens, kv_heads*hs]
                                T* __restrict__ pool,     // [num_blocks][layers][2][kv_heads][bs][hs]
                                const std::int64_t* __restrict__ slot_mapping,  // [num_tokens]
                                std::int64_t block_stride, std::int64_t k_offset, std::int64_t v_offset, int kv_heads,
                                int block_size, int hs) {
  const std::int64_t t = blockIdx.x;
  const std::int64_t slot = slot_mapping[t];
  if (slot < 0) return;
  const std::int64_t block = slot / block_size;
  const int offset = static_cast<int>(slot % block_size);
  const int row = kv_heads * hs;
  for (int i = threadIdx.x; i < row; i += blockDim.x) {
    const int h = i / hs, d = i % hs;
    const std::int64_t at = block * block_stride + (static_cast<std::int64_t>(h) * block_size + offset) * hs + d;
    pool[at + k_offset] = k[t * row + i];
    pool[at + v_offset] = v[t * row + i];
  }
}

}  // namespace

void launch_write_kv(const Tensor& k, const Tensor& v, const KvCacheSpec& spec, void* pool, int layer,
                     const DeviceBatch& b, cudaStream_t s) {
  if (b.num_tokens == 0) return;
  const auto stride = static_cast<std::int64_t>(spec.elems_per_block());
  const auto k_off = static_cast<std::int64_t>(spec.offset(0, layer, 0));
  const auto v_off = static_cast<std::int64_t>(spec.offset(0, layer, 1));
  PS_DISPATCH_DTYPE(spec.dtype, [&] {
    write_kv_kernel<scalar_t><<<b.num_tokens, 128, 0, s>>>(
        static_cast<const scalar_t*>(k.data), static_cast<const scalar_t*>(v.data), static_cast<scalar_t*>(pool),
        b.slot_mapping, stride, k_off, v_off, spec.num_kv_heads, spec.block_size, spec.head_size);
  });
  PS_CUDA_LAUNCH_CHECK();
}

}  // namespace pagedserve::kernels::cuda
