#include "engine/kv_planner.hpp"

#include <algorithm>

namespace pagedserve::engine {

// The largest step the engine may run, with every K/V slot -1 (nothing is
// written) and every block table naming one scratch block: n tokens as
// sequences of the model's full length (so attention splits every context
// as far as it ever will), and logits for max_num_seqs rows.
kernels::BatchMetadata profiling_batch(int n, int max_len, int num_logit_rows, int block_size) {
  kernels::BatchMetadata m;
  m.max_blocks_per_seq = (std::min(n, max_len) + block_size - 1) / block_size;
  m.query_start = {0};
  for (int first = 0; first < n; first += max_len) {
    const int len = std::min(max_len, n - first);
    for (int i = 0; i < len; ++i) {
      m.token_ids.push_back(0);
      m.positions.push_back(i);
      m.slot_mapping.push_back(-1);
    }
    m.query_start.push_back(first + len);
    m.context_lens.push_back(len);
    m.block_tables.insert(m.block_tables.end(), m.max_blocks_per_seq, 0);
  }
  for (int r = 0; r < num_logit_rows; ++r) m.logits_rows.push_back(n - 1 - r % n);
  return m;
}

KvPlan plan_kv_pools(model::LlamaModel& model, const KvPlanRequest& request) {
  auto& backend = model.backend();
  const int n = std::max(1, request.max_num_batched_tokens);
  auto scratch = backend.allocate_kv_cache(model.kv_spec(1, request.block_size, backend.activation_dtype()));
  backend.synchronize();
  const auto before = backend.memory_info();
  std::vector<float> logits;
  model.forward(profiling_batch(n, model.config().max_seq_len, std::max(1, request.max_num_seqs), request.block_size),
                scratch, logits);
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
