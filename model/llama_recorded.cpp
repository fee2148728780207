// Decode steps as recorded steps (CUDA graphs): the first step of each
// padded batch size runs once as usual (buffers reach their size, cuBLAS
// picks its kernels), then is recorded; every later step of that size
// uploads its index arrays to the fixed place and replays the recording:
// one launch instead of about ten per layer.

#include <algorithm>

#include "model/llama.hpp"
#include "model/recorded_step.hpp"

namespace pagedserve::model {

bool LlamaModel::recordable_decode(const kernels::BatchMetadata& meta) const {
  return meta.num_seqs() <= kMaxRecordedBatch && is_plain_decode(meta);
}

kernels::Tensor LlamaModel::forward_recorded(const kernels::BatchMetadata& meta, kernels::KvCache& cache) {
  const int n = meta.num_seqs();
  const int size = recorded_batch_size(n);
  // Every position is below max_seq_len: the widest table and the longest
  // context a recording must cover.
  const int width = std::max(meta.max_blocks_per_seq,
                             (config_.max_seq_len + cache.spec.block_size - 1) / cache.spec.block_size);
  const int max_context = std::max(config_.max_seq_len, meta.max_context_len());
  const kernels::BatchMetadata padded = pad_decode_batch(meta, size, width);
  ensure_scratch(size, size);
  if (recorded_cache_ != cache.data()) {  // recordings write one pool
    backend_.drop_graphs();
    recorded_cache_ = cache.data();
  }
  const int id = size;
  auto batch = backend_.prepare_fixed(padded, max_context);
  if (!backend_.has_graph(id)) {
    run_step(*batch, cache, size, size);  // sizes every buffer the recording will read
    backend_.begin_capture();
    try {
      run_step(*batch, cache, size, size);
      backend_.end_capture(id);
    } catch (...) {
      backend_.abort_capture();
      throw;
    }
  }
  backend_.replay(id);
  return kernels::Tensor{s_.logits.view.data, s_.logits.view.dtype, n, s_.logits.view.cols};
}

}  // namespace pagedserve::model
