#pragma once
// Synthetic ("dummy") weights, generated where they will live instead of on
// the host: a 7B model's 6.7e9 values take minutes to make and convert on
// one host core, milliseconds on a GPU. Each value is a pure function of
// (seed, index), so the CPU and CUDA backends make the same numbers and the
// order in which threads fill a tensor does not matter.

#include <cstdint>

#if defined(__CUDACC__)
#define PS_HOST_DEVICE __host__ __device__
#else
#define PS_HOST_DEVICE
#endif

namespace pagedserve::kernels {

// Uniform in (-amplitude, amplitude); amplitude 0 means a norm weight: 1.
struct SyntheticFill {
  std::uint64_t seed = 0;
  float amplitude = 0.0f;
};

// splitmix64's finaliser: a bijection that mixes every input bit.
PS_HOST_DEVICE inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

PS_HOST_DEVICE inline float synthetic_value(const SyntheticFill& f, std::uint64_t index) {
  if (f.amplitude == 0.0f) return 1.0f;
  const std::uint64_t bits = mix64(f.seed * 0x9E3779B97F4A7C15ULL + index);
  const float unit = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
  return (unit * 2.0f - 1.0f) * f.amplitude;
}

}  // namespace pagedserve::kernels
