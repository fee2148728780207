#pragma once
// Sampling on the GPU (kernels/sampling.hpp): the logits rows never leave
// the device; one upload of the rows' parameters and penalty tokens, three
// kernels, one read-back of the token ids and logprobs. It keeps its device
// and pinned buffers from step to step, growing them when a batch needs more.

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

#include "kernels/sampling.hpp"
#include "kernels/tensor.hpp"

namespace pagedserve::kernels::cuda {

class DeviceSampler {
 public:
  // Draws every row of `batch` from `logits` [rows, vocab] (device memory,
  // any storage type) on `stream`; returns once the results are on the host.
  void sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out, cudaStream_t stream);

 private:
  std::shared_ptr<void> device_in_, device_out_, pinned_in_, pinned_out_, work_;
  std::size_t in_bytes_ = 0, out_bytes_ = 0, work_bytes_ = 0;
  void reserve(std::size_t in_bytes, std::size_t out_bytes, std::size_t work_bytes);
};

}  // namespace pagedserve::kernels::cuda
