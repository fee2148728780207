#pragma once
// The host twin of the GPU sampler: the same algorithm (kernels/sampling.hpp)
// with the same arithmetic (kernels/sampling_math.hpp), one row at a time.
// It is the reference the CUDA kernels are tested against, and the
// Backend::sample of every backend that does not sample on a device.

#include <cstdint>
#include <span>

#include "kernels/sampling.hpp"
#include "kernels/sampling_math.hpp"

namespace pagedserve::kernels {

// `logits` is [rows, vocab] row-major fp32; fills `out` (resized here).
void sample_on_host(std::span<const float> logits, std::int64_t vocab, const SampleBatch& batch, SampleOutput& out);

// The tokens a drawing row may draw from its penalized logits `work`: the
// top-k and top-p cuts found by the GPU's radix selects, and min-p.
sampling::Candidates candidates_of(std::span<const float> work, const SampleRow& row);

}  // namespace pagedserve::kernels
