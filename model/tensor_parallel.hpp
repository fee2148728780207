#pragma once
// Megatron-style tensor parallelism: how a model is split over `world`
// ranks. Each rank keeps every layer but a slice of each: the q/k/v and
// gate/up projections by output rows (whole heads, whole KV heads), the o
// and down projections by input columns, so each rank's o and down outputs
// are partial sums that an all-reduce adds up. Norms, embeddings and the
// classifier are vocab-parallel: each rank holds the rows of its range of
// token ids (vocab_range); the embedding lookup is masked to that range and
// all-reduced, and the classifier's logits, for the rows that sample only,
// are gathered from the ranks, so every rank ends a step with the same
// logits and samples the same tokens from the same seeds.

#include <string>

#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

// The reason `config` cannot be split over `world` ranks ("" when it can):
// heads, KV heads and the FFN width must divide evenly.
std::string tensor_parallel_refusal(const ModelConfig& config, int world);

// Rank `rank`'s token ids of the vocab-parallel embedding and classifier:
// [vocab * rank / world, vocab * (rank + 1) / world).
struct VocabRange {
  std::int32_t first = 0;
  std::int32_t count = 0;
};
VocabRange vocab_range(int vocab_size, int rank, int world);

// Rank `rank`'s shape: its heads, KV heads and FFN width (vocab_size stays
// the whole vocabulary: the gathered logits are whole).
ModelConfig shard_config(const ModelConfig& config, int rank, int world);
// Rank `rank`'s weights. Row slices share the loaded data; column slices
// are copies; slices of dummy (synthetic) weights are synthetic weights of
// the slice's shape (benchmarks of a split model's speed).
ModelWeights shard_weights(const ModelConfig& config, const ModelWeights& weights, int rank, int world);

}  // namespace pagedserve::model
