#include "model/recorded_step.hpp"

#include <stdexcept>

namespace pagedserve::model {

bool is_plain_decode(const kernels::BatchMetadata& meta) {
  const int n = meta.num_seqs();
  if (n == 0 || meta.num_tokens() != n || static_cast<int>(meta.logits_rows.size()) != n) return false;
  for (int s = 0; s < n; ++s)
    if (meta.query_start[s] != s || meta.logits_rows[s] != s) return false;
  return true;
}

int recorded_batch_size(int n) {
  int size = 1;
  while (size < n) size *= 2;
  return size;
}

kernels::BatchMetadata pad_decode_batch(const kernels::BatchMetadata& meta, int seqs, int table_width) {
  const int n = meta.num_seqs();
  if (seqs < n || table_width < meta.max_blocks_per_seq) throw std::invalid_argument("pad_decode_batch: shrinks the batch");
  kernels::BatchMetadata out;
  out.token_ids = meta.token_ids;
  out.positions = meta.positions;
  out.slot_mapping = meta.slot_mapping;
  out.query_start = meta.query_start;
  out.context_lens = meta.context_lens;
  out.logits_rows = meta.logits_rows;
  out.max_blocks_per_seq = table_width;
  out.block_tables.assign(static_cast<std::size_t>(seqs) * table_width, 0);
  for (int s = 0; s < n; ++s)
    for (int b = 0; b < meta.max_blocks_per_seq; ++b)
      out.block_tables[static_cast<std::size_t>(s) * table_width + b] =
          meta.block_tables[static_cast<std::size_t>(s) * meta.max_blocks_per_seq + b];
  for (int s = n; s < seqs; ++s) {
    out.token_ids.push_back(0);
    out.positions.push_back(0);
    out.slot_mapping.push_back(-1);
    out.query_start.push_back(s + 1);
    out.context_lens.push_back(1);
    out.logits_rows.push_back(s);
  }
  return out;
}

}  // namespace pagedserve::model
