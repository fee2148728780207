#pragma once
// Megatron-style tensor parallelism: how a model is split over `world`
// ranks. Each rank keeps every layer but a slice of each: the q/k/v and
// gate/up projections by output rows (whole heads, whole KV heads), the o
// and down projections by input columns, so each rank's o and down outputs
// are partial sums that an all-reduce adds up. Norms, embeddings and the
// classifier are whole on every rank, so every rank ends a step with the
// same logits and samples the same tokens from the same seeds.

#include <string>

#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

// The reason `config` cannot be split over `world` ranks ("" when it can):
// heads, KV heads and the FFN width must divide evenly.
std::string tensor_parallel_refusal(const ModelConfig& config, int world);

// Rank `rank`'s shape: its heads, KV heads and FFN width.
ModelConfig shard_config(const ModelConfig& config, int rank, int world);
// Rank `rank`'s weights. Row slices share the loaded data; column slices
// are copies. Throws std::invalid_argument for dummy (synthetic) weights,
// which have no host data to slice.
ModelWeights shard_weights(const ModelConfig& config, const ModelWeights& weights, int rank, int world);

}  // namespace pagedserve::model
