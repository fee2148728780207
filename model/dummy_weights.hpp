#pragma once
// Random weights of any shape, so benchmarks run real model shapes (e.g.
// Llama-2-7B) without the real weights. Seeded and reproducible.

#include <cstdint>

#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

// Matrices ~ U(-a, a) with the variance of N(0, 0.02^2); norm weights 1.
ModelWeights make_dummy_weights(const ModelConfig& config, kernels::DType dtype, std::uint64_t seed = 0);

}  // namespace pagedserve::model
