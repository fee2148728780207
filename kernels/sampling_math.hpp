#pragma once
// The arithmetic the GPU sampler and its host twin share, compiled from this
// one header by nvcc (device) and the host compiler alike, so both draw the
// same token from the same logits:
//   - Philox4x32-10 (Salmon et al., SC'11), a counter-based generator: the
//     uniform of token i in draw `counter` of stream `seed` is a pure
//     function of the three, so no generator state crosses a batch and the
//     order of rows and threads does not matter;
//   - the Gumbel-max trick: argmax_i (s_i + G_i), G_i = -log(-log(u_i)),
//     draws i with probability softmax(s)_i using one independent uniform
//     per token, with no prefix sum whose rounding would depend on order;
//   - a total order on (value, index) as one 64-bit key, so "the k best",
//     ties and "the first maximum" are the same set on both sides.
// The one product that feeds a sum (the frequency penalty) is rounded on
// its own on both sides, so neither compiler fuses it into an FMA.

#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define PS_SAMPLING_FN __host__ __device__ __forceinline__
#else
#define PS_SAMPLING_FN inline
#endif

namespace pagedserve::kernels::sampling {

struct Philox4 {
  std::uint32_t v[4];
};

PS_SAMPLING_FN Philox4 philox4x32_10(Philox4 ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * ctr.v[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * ctr.v[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return ctr;
}

// A uniform in (0, 1), never 0 or 1: (k + 0.5) / 2^52 for a 52-bit k, exact
// in a double. Key = seed; counter = (token, counter low, counter high, 0).
PS_SAMPLING_FN double uniform_open(std::uint64_t seed, std::uint64_t counter, std::int32_t token) {
  const Philox4 r = philox4x32_10(
      Philox4{{static_cast<std::uint32_t>(token), static_cast<std::uint32_t>(counter),
               static_cast<std::uint32_t>(counter >> 32), 0u}},
      static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  const std::uint64_t bits52 = ((static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1]) >> 12;
  return (static_cast<double>(bits52) + 0.5) * 0x1p-52;
}

// s + Gumbel noise for token `token`: the score whose argmax is the draw.
// In double, so host and device (whose log may differ in the last bit)
// disagree only when two scores tie to ~1e-16.
PS_SAMPLING_FN double gumbel_score(float s, std::uint64_t seed, std::uint64_t counter, std::int32_t token) {
  return static_cast<double>(s) - log(-log(uniform_open(seed, counter, token)));
}

PS_SAMPLING_FN std::uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
#endif
}

PS_SAMPLING_FN float bits_float(std::uint32_t b) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(b);
#else
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
#endif
}

// Orders (value, index) by value descending, then index ascending, as one
// unsigned key: a larger key is better. -0 counts as +0.
PS_SAMPLING_FN std::uint64_t sort_key(float value, std::int32_t index) {
  if (value == 0.0f) value = 0.0f;
  std::uint32_t bits = float_bits(value);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return (static_cast<std::uint64_t>(bits) << 32) | static_cast<std::uint32_t>(~static_cast<std::uint32_t>(index));
}

PS_SAMPLING_FN std::int32_t key_index(std::uint64_t key) {
  return static_cast<std::int32_t>(~static_cast<std::uint32_t>(key));
}

PS_SAMPLING_FN float key_value(std::uint64_t key) {
  std::uint32_t bits = static_cast<std::uint32_t>(key >> 32);
  bits = (bits & 0x80000000u) ? (bits & 0x7fffffffu) : ~bits;
  return bits_float(bits);
}

PS_SAMPLING_FN float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  volatile float product = a * b;  // a host built with FMA must not fuse it either
  return product;
#endif
}

PS_SAMPLING_FN float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// One penalty token's logit: the repetition penalty (it is in the context),
// then presence + frequency * count when it is in the output.
PS_SAMPLING_FN float penalize(float logit, float repetition, float presence, float frequency, std::int32_t output_count) {
  if (repetition != 1.0f) logit = logit > 0.0f ? logit / repetition : mul_rn(logit, repetition);
  if (output_count > 0 && (presence != 0.0f || frequency != 0.0f))
    logit = logit - add_rn(presence, mul_rn(frequency, static_cast<float>(output_count)));
  return logit;
}

// The temperature-scaled logit relative to the maximum: s = (l - max) / T.
PS_SAMPLING_FN float scaled_logit(float logit, float max_logit, float temperature) {
  return (logit - max_logit) / temperature;
}

// min-p keeps p >= min_p * p_max, i.e. s >= log(min_p); -inf keeps all.
PS_SAMPLING_FN double min_p_floor(float min_p) {
  return min_p > 0.0f ? log(static_cast<double>(min_p)) : -INFINITY;
}

// Which tokens a drawing row may draw: those with key >= floor_key (the top-k
// and top-p cuts) and s >= log(min_p); mass is the unnormalized probability.
struct Candidates {
  float max_logit = 0.0f;
  float temperature = 1.0f;
  double min_p_floor = -INFINITY;
  std::uint64_t floor_key = 0;

  PS_SAMPLING_FN bool keeps(std::uint64_t key, float logit) const {
    return key >= floor_key && static_cast<double>(scaled_logit(logit, max_logit, temperature)) >= min_p_floor;
  }
  PS_SAMPLING_FN double mass(float logit) const {
    return exp(static_cast<double>(scaled_logit(logit, max_logit, temperature)));
  }
};

// --- radix select over sort keys -------------------------------------------------
// The top-k and top-p cuts descend the 64-bit keys eight bits a level, from
// the top: each level histograms the candidates that share the prefix
// chosen so far and picks the bucket holding the cut. It stops early once
// that bucket holds a single key: every key >= the prefix (lower bits zero)
// is then exactly the selected set.
constexpr int kRadixBits = 8;
constexpr int kRadixBuckets = 1 << kRadixBits;
constexpr int kRadixTopShift = 64 - kRadixBits;

// The bits above this level's digit, which must equal the prefix so far.
PS_SAMPLING_FN std::uint64_t radix_high_mask(int shift) {
  return shift == kRadixTopShift ? 0 : ~0ull << (shift + kRadixBits);
}

PS_SAMPLING_FN int radix_digit(std::uint64_t key, int shift) {
  return static_cast<int>((key >> shift) & (kRadixBuckets - 1));
}

struct RadixChoice {
  int bucket;          // the digit of the cut at this level
  std::uint32_t rank;  // by count: the cut's rank inside that bucket
  double above;        // by mass: the mass of all candidates above that bucket
};

// One level's choice, best bucket first. By count, the cut is the rank-th
// key; by mass, the first key at which the mass above it plus its own
// reaches `target`. Where nothing reaches it (rounding), the lowest
// non-empty bucket: every candidate stays.
PS_SAMPLING_FN RadixChoice radix_choose(const unsigned* count, const double* mass, bool by_mass, std::uint32_t rank,
                                        double above, double target) {
  RadixChoice choice{0, rank, above};
  for (int d = kRadixBuckets - 1; d >= 0; --d) {
    if (count[d] == 0) continue;
    choice = {d, rank, above};
    if (by_mass ? above + mass[d] >= target : count[d] >= rank) break;
    above += mass[d];
    rank -= count[d];
  }
  return choice;
}

}  // namespace pagedserve::kernels::sampling
