#include "kernels/sampling.hpp"

#include <algorithm>

namespace pagedserve::kernels {

void SampleBatch::add(SampleRow row, const std::vector<PenaltyToken>& row_penalties, std::span<const std::uint32_t> mask) {
  row.masked = mask.empty() ? 0 : 1;
  row.first_mask_word = static_cast<std::uint32_t>(allowed.size());
  allowed.insert(allowed.end(), mask.begin(), mask.end());
  row.first_top = num_top;
  row.first_penalty = static_cast<std::uint32_t>(penalties.size());
  row.num_penalties = static_cast<std::uint32_t>(row_penalties.size());
  num_top += static_cast<std::uint32_t>(std::max(row.num_top_logprobs, 0));
  penalties.insert(penalties.end(), row_penalties.begin(), row_penalties.end());
  rows.push_back(row);
}

}  // namespace pagedserve::kernels
