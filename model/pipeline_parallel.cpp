#include "model/pipeline_parallel.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::model {

std::string pipeline_parallel_refusal(const ModelConfig& config, int stages) {
  if (stages < 1) return "the pipeline-parallel size must be at least 1";
  if (stages > config.num_layers)
    return "--pipeline-parallel-size " + std::to_string(stages) + " exceeds the model's " +
           std::to_string(config.num_layers) + " layers: each stage needs at least one";
  return "";
}

LayerRange stage_layers(const ModelConfig& config, int stage, int stages) {
  if (auto reason = pipeline_parallel_refusal(config, stages); !reason.empty()) throw std::invalid_argument(reason);
  if (stage < 0 || stage >= stages) throw std::invalid_argument("stage out of range");
  const int base = config.num_layers / stages, extra = config.num_layers % stages;
  return LayerRange{stage * base + std::min(stage, extra), base + (stage < extra ? 1 : 0)};
}

namespace {

bool logits_in_token_order(const kernels::BatchMetadata& meta) {
  return std::is_sorted(meta.logits_rows.begin(), meta.logits_rows.end());
}

// Sequences [first, last) of `meta` as a batch of their own.
MicroBatch cut(const kernels::BatchMetadata& meta, int first, int last) {
  MicroBatch mb;
  auto& m = mb.meta;
  const int t0 = meta.query_start[first], t1 = meta.query_start[last];
  m.token_ids.assign(meta.token_ids.begin() + t0, meta.token_ids.begin() + t1);
  m.positions.assign(meta.positions.begin() + t0, meta.positions.begin() + t1);
  m.slot_mapping.assign(meta.slot_mapping.begin() + t0, meta.slot_mapping.begin() + t1);
  for (int s = first; s <= last; ++s) m.query_start.push_back(meta.query_start[s] - t0);
  m.context_lens.assign(meta.context_lens.begin() + first, meta.context_lens.begin() + last);
  m.max_blocks_per_seq = meta.max_blocks_per_seq;
  const auto width = static_cast<std::ptrdiff_t>(meta.max_blocks_per_seq);
  m.block_tables.assign(meta.block_tables.begin() + first * width, meta.block_tables.begin() + last * width);
  const auto lo = std::lower_bound(meta.logits_rows.begin(), meta.logits_rows.end(), t0);
  const auto hi = std::lower_bound(meta.logits_rows.begin(), meta.logits_rows.end(), t1);
  mb.first_logit = static_cast<int>(lo - meta.logits_rows.begin());
  for (auto it = lo; it != hi; ++it) m.logits_rows.push_back(*it - t0);
  return mb;
}

}  // namespace

std::vector<MicroBatch> split_micro_batches(const kernels::BatchMetadata& meta, int parts) {
  const int seqs = meta.num_seqs();
  parts = logits_in_token_order(meta) ? std::clamp(parts, 1, std::max(seqs, 1)) : 1;
  std::vector<MicroBatch> out;
  if (seqs == 0) {
    out.push_back(MicroBatch{meta, 0});
    return out;
  }
  const double per_part = static_cast<double>(meta.num_tokens()) / parts;
  int first = 0;
  for (int k = 1; k <= parts && first < seqs; ++k) {
    int last = first + 1;  // at least one sequence
    const int left_parts = parts - k;
    while (last < seqs - left_parts && meta.query_start[last] < per_part * k) ++last;
    if (k == parts) last = seqs;
    out.push_back(cut(meta, first, last));
    first = last;
  }
  return out;
}

}  // namespace pagedserve::model
