#pragma once
// Rotary-embedding frequencies, shared by the CPU and CUDA kernels so both
// compute the same numbers: theta^(-2i/hs), then, for Llama 3.x checkpoints,
// the per-frequency rescaling of Hugging Face's `_compute_llama3_parameters`
// (long wavelengths slowed down by `factor`, short ones kept, the band
// between them interpolated).

#include "kernels/synthetic.hpp"  // PS_HOST_DEVICE

namespace pagedserve::kernels {

// rope_scaling {"rope_type": "llama3", ...}; factor 0 means no scaling.
struct RopeScaling {
  float factor = 0.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  float original_max_positions = 8192.0f;  // original_max_position_embeddings
  bool active() const { return factor != 0.0f; }
};

// The inverse frequency of one rotary pair after scaling, in float as
// Hugging Face computes it (torch float32).
PS_HOST_DEVICE inline float scaled_inv_freq(float inv_freq, const RopeScaling& s) {
  if (s.factor == 0.0f) return inv_freq;
  const float wavelen = 6.283185307179586f / inv_freq;
  const float low_freq_wavelen = s.original_max_positions / s.low_freq_factor;
  const float high_freq_wavelen = s.original_max_positions / s.high_freq_factor;
  if (wavelen > low_freq_wavelen) return inv_freq / s.factor;
  if (wavelen < high_freq_wavelen) return inv_freq;
  const float smooth = (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1.0f - smooth) * inv_freq / s.factor + smooth * inv_freq;
}

}  // namespace pagedserve::kernels
