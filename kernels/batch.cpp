#include "kernels/batch.hpp"

#include <algorithm>

namespace pagedserve::kernels {

int BatchMetadata::max_query_len() const {
  int m = 0;
  for (std::size_t s = 0; s + 1 < query_start.size(); ++s) m = std::max(m, query_start[s + 1] - query_start[s]);
  return m;
}

int BatchMetadata::max_context_len() const {
  return context_lens.empty() ? 0 : *std::max_element(context_lens.begin(), context_lens.end());
}

std::string BatchMetadata::validate(int block_size, int num_blocks) const {
  const std::size_t n = token_ids.size();
  if (positions.size() != n || slot_mapping.size() != n) return "positions / slot_mapping size differs from token_ids";
  if (query_start.size() != context_lens.size() + 1) return "query_start must have num_seqs + 1 entries";
  if (query_start.empty() || query_start.front() != 0 || query_start.back() != static_cast<int>(n))
    return "query_start must run from 0 to num_tokens";
  if (block_tables.size() != context_lens.size() * static_cast<std::size_t>(max_blocks_per_seq))
    return "block_tables must be num_seqs x max_blocks_per_seq";
  for (int s = 0; s < num_seqs(); ++s) {
    const int q = query_start[s + 1] - query_start[s];
    if (q < 0) return "query_start is not monotone";
    if (context_lens[s] < q) return "a context is shorter than its new tokens";
    if ((context_lens[s] + block_size - 1) / block_size > max_blocks_per_seq) return "a block table is too short";
    for (int i = 0; i < q; ++i) {
      const int t = query_start[s] + i;
      const int pos = context_lens[s] - q + i;
      if (positions[t] != pos) return "a position disagrees with its context length";
      if (slot_mapping[t] < 0) continue;
      const std::int32_t block = block_tables[static_cast<std::size_t>(s) * max_blocks_per_seq + pos / block_size];
      if (block < 0 || block >= num_blocks) return "a block table entry is outside the pool";
      if (slot_mapping[t] != static_cast<std::int64_t>(block) * block_size + pos % block_size)
        return "a slot disagrees with the block table";
    }
  }
  for (auto r : logits_rows)
    if (r < 0 || r >= static_cast<int>(n)) return "a logits row is outside the batch";
  return "";
}

}  // namespace pagedserve::kernels
