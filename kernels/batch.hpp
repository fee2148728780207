#pragma once
// What one model step computes: a flat batch of tokens from many sequences,
// each contributing a prefill chunk (many tokens) or one decode token.
// This explicit struct travels down to every kernel; there is no global
// attention context.
//
//   tokens:      | s0 chunk (3) | s1 decode (1) | s2 chunk (2) |
//   query_start:  0              3               4              6
//   context_lens: s0: cached + 3, s1: cached + 1, s2: cached + 2
//
// Query token i of sequence s sits at position context_lens[s] - n_s + i and
// attends causally to keys 0..that position (cached prefix + earlier new
// tokens), read through block_tables[s].

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pagedserve::kernels {

struct BatchMetadata {
  std::vector<std::int32_t> token_ids;     // [num_tokens]
  std::vector<std::int32_t> positions;     // [num_tokens]
  std::vector<std::int64_t> slot_mapping;  // [num_tokens] where each new K/V goes; -1 skips
  std::vector<std::int32_t> query_start;   // [num_seqs + 1] prefix sums of new tokens
  std::vector<std::int32_t> context_lens;  // [num_seqs] cached + new tokens
  std::vector<std::int32_t> block_tables;  // [num_seqs, max_blocks_per_seq], padded with 0
  std::int32_t max_blocks_per_seq = 0;
  std::vector<std::int32_t> logits_rows;   // token rows whose logits are wanted (usually each seq's last)

  int num_tokens() const { return static_cast<int>(token_ids.size()); }
  int num_seqs() const { return static_cast<int>(context_lens.size()); }
  int max_query_len() const;
  int max_context_len() const;
  // Checks every invariant above; returns an error message or "" when valid.
  std::string validate(int block_size, int num_blocks) const;
};

// A batch as a backend holds it for one step (device copies of the index
// arrays for CUDA; the host vectors themselves for the CPU).
class StepBatch {
 public:
  explicit StepBatch(const BatchMetadata& host) : host_(host) {}
  virtual ~StepBatch() = default;
  const BatchMetadata& host() const { return host_; }

 private:
  const BatchMetadata& host_;
};

}  // namespace pagedserve::kernels
