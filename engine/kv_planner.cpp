#include "engine/kv_planner.hpp"

#include <algorithm>

namespace pagedserve::engine {

namespace {

// One sequence of n tokens whose K/V are not written (slots -1) and whose
// block table names one scratch block n/bs times: the activations of a full
// step without a real KV pool.
kernels::BatchMetadata profiling_batch(int n, int block_size) {
  kernels::BatchMetadata m;
  for (int i = 0; i < n; ++i) {
    m.token_ids.push_back(0);
    m.positions.push_back(i);
    m.slot_mapping.push_back(-1);
  }
  m.query_start = {0, n};
  m.context_lens = {n};
  m.max_blocks_per_seq = (n + block_size - 1) / block_size;
  m.block_tables.assign(m.max_blocks_per_seq, 0);
  m.logits_rows = {n - 1};
  return m;
}

}  // namespace

KvPlan plan_kv_pools(model::LlamaModel& model, const KvPlanRequest& request) {
  auto& backend = model.backend();
  const int n = std::max(1, std::min(request.max_num_batched_tokens, model.config().max_seq_len));
  auto scratch = backend.allocate_kv_cache(model.kv_spec(1, request.block_size, backend.activation_dtype()));
  backend.synchronize();
  const auto before = backend.memory_info();
  std::vector<float> logits;
  model.forward(profiling_batch(n, request.block_size), scratch, logits);
  backend.synchronize();
  const auto after = backend.memory_info();

  KvPlan plan;
  plan.weight_bytes = model.weight_bytes();
  plan.activation_bytes = before.free_bytes > after.free_bytes ? before.free_bytes - after.free_bytes : 0;
  plan.total_device_bytes = before.total_bytes;
  kernels::PoolSizingInput in;
  in.total_device_bytes = before.total_bytes;
  in.gpu_memory_utilization = request.gpu_memory_utilization;
  // Everything already in use (weights, context, libraries) plus the peak.
  in.weight_bytes = before.total_bytes - before.free_bytes;
  in.peak_activation_bytes = plan.activation_bytes;
  in.bytes_per_block = model.kv_spec(1, request.block_size, backend.activation_dtype()).bytes_per_block();
  in.swap_space_gib = request.swap_space_gib;
  plan.sizes = kernels::size_kv_pools(in);
  return plan;
}

}  // namespace pagedserve::engine
