#pragma once
// Pipeline parallelism: how a model's layers are split over `stages`
// stages, and how one step's batch is cut into micro-batches that flow
// through them one after another, so that stage s works on micro-batch k
// while stage s + 1 works on micro-batch k - 1.
//
//   stage 0: | mb0 | mb1 |
//   stage 1:       | mb0 | mb1 |        bubble = (P - 1) / (M + P - 1)
//
// Each stage holds a contiguous range of layers (the first stages take one
// more when the layers do not divide evenly); stage 0 also embeds, the last
// stage applies the final norm and the classifier.

#include <string>
#include <vector>

#include "kernels/batch.hpp"
#include "model/config.hpp"

namespace pagedserve::model {

struct LayerRange {
  int first = 0;
  int count = 0;
  int end() const { return first + count; }
};

// The reason `config` cannot be split into `stages` stages ("" when it can).
std::string pipeline_parallel_refusal(const ModelConfig& config, int stages);
// Stage `stage`'s layers.
LayerRange stage_layers(const ModelConfig& config, int stage, int stages);

// Micro-batches per step: as many as stages, the fewest that keep every
// stage busy once the pipeline is full (more would shrink each stage's
// GEMMs and read its weights once more per micro-batch).
inline int micro_batches_for(int stages) { return stages; }

// A part of a step's batch: whole sequences, its token rows and logits
// rows renumbered from 0. Its logits are rows [first_logit, first_logit +
// meta.logits_rows.size()) of the step's.
struct MicroBatch {
  kernels::BatchMetadata meta;
  int first_logit = 0;
};

// Cuts `meta` into at most `parts` micro-batches of whole, consecutive
// sequences with about as many tokens each. One part when the logits rows
// are not in token order (then the parts' logits would not be contiguous).
std::vector<MicroBatch> split_micro_batches(const kernels::BatchMetadata& meta, int parts);

}  // namespace pagedserve::model
