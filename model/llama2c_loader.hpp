#pragma once
// Loads a llama2.c checkpoint (header of 7 int32, then fp32 tensors) by
// memory-mapping it: the weights point into the mapping, nothing is copied.

#include <string>

#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

struct Llama2cCheckpoint {
  ModelConfig config;
  ModelWeights weights;
};

// Throws std::runtime_error naming the path and what is wrong (missing file,
// bad header, size that does not match the header).
Llama2cCheckpoint load_llama2c_checkpoint(const std::string& path);

}  // namespace pagedserve::model
