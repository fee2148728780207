#pragma once
// Sizes the KV pools for a model on its backend as vLLM does: the weights
// are loaded, a profiling forward pass at the largest step the engine will
// run measures the activations' peak, and gpu_memory_utilization of the
// device minus both goes to KV blocks; swap_space GiB of host memory to the
// CPU swap pool.

#include "kernels/kv_pool_sizing.hpp"
#include "model/llama.hpp"

namespace pagedserve::engine {

struct KvPlanRequest {
  double gpu_memory_utilization = 0.9;
  double swap_space_gib = 4.0;
  int block_size = 16;
  int max_num_batched_tokens = 8192;
  int max_num_seqs = 256;  // rows whose logits one step may compute
};

struct KvPlan {
  kernels::PoolSizes sizes;
  std::size_t weight_bytes = 0;
  std::size_t activation_bytes = 0;  // measured by the profiling pass
  std::size_t total_device_bytes = 0;
};

// The largest step the engine may run, as the profiling pass runs it:
// `max_num_batched_tokens` tokens as sequences of `max_len` (so attention
// splits every context as far as it ever will), `num_logit_rows` logits
// rows, no K/V written (slots -1), every block table naming block 0.
kernels::BatchMetadata profiling_batch(int max_num_batched_tokens, int max_len, int num_logit_rows, int block_size);

// Runs the profiling pass on the model's backend (it allocates the
// activation buffers the engine will reuse). Throws std::runtime_error when
// no block fits, saying how much memory is missing.
KvPlan plan_kv_pools(model::LlamaModel& model, const KvPlanRequest& request);

}  // namespace pagedserve::engine
