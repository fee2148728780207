#pragma once
// The host twin of the GPU sampler: the same algorithm (kernels/sampling.hpp)
// with the same arithmetic (kernels/sampling_math.hpp), one row at a time.
// It is the reference the CUDA kernels are tested against, and the
// Backend::sample of every backend that does not sample on a device.

#include <cstdint>
#include <span>

#include "kernels/sampling.hpp"

namespace pagedserve::kernels {

// `logits` is [rows, vocab] row-major fp32; fills `out` (resized here).
void sample_on_host(std::span<const float> logits, std::int64_t vocab, const SampleBatch& batch, SampleOutput& out);

// The candidates a drawing row keeps, as the smallest sort_key kept (every
// key >= it is a candidate): top_k, top_p, min_p. `work` holds the
// penalized logits. Exposed for the tests of each filter.
std::uint64_t candidate_threshold(std::span<const float> work, const SampleRow& row);

}  // namespace pagedserve::kernels
