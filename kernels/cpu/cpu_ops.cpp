#include "kernels/cpu/cpu_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace pagedserve::kernels::cpu {

namespace {

// o = weight * (x / rms(x)) given x's sum of squares, as llama2.c orders it.
void scale_row(const float* xr, float ss, const float* weight, float eps, std::int64_t dim, float* o) {
  ss /= static_cast<float>(dim);
  ss += eps;
  ss = 1.0f / std::sqrt(ss);
  for (std::int64_t j = 0; j < dim; ++j) o[j] = weight[j] * (ss * xr[j]);
}

}  // namespace

void rms_norm(const float* x, const float* weight, float eps, std::int64_t rows, std::int64_t dim, float* out) {
#pragma omp parallel for if (rows > 4)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float ss = 0.0f;
    for (std::int64_t j = 0; j < dim; ++j) ss += xr[j] * xr[j];
    scale_row(xr, ss, weight, eps, dim, out + r * dim);
  }
}

void add_rms_norm(float* x, const float* residual, const float* weight, float eps, std::int64_t rows, std::int64_t dim,
                  float* out) {
#pragma omp parallel for if (rows > 4)
  for (std::int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * dim;
    const float* rr = residual + r * dim;
    float ss = 0.0f;
    for (std::int64_t j = 0; j < dim; ++j) {
      xr[j] += rr[j];
      ss += xr[j] * xr[j];
    }
    scale_row(xr, ss, weight, eps, dim, out + r * dim);
  }
}


void rope_angles(int pos, const RopeParams& p, float* cos_sin) {
  const int hs = p.head_size;
  for (int i = 0; i < hs / 2; ++i) {
    const float freq =
        scaled_inv_freq(1.0f / std::pow(p.theta, static_cast<float>(2 * i) / static_cast<float>(hs)), p.scaling);
    const float angle = static_cast<float>(pos) * freq;
    cos_sin[2 * i] = std::cos(angle);
    cos_sin[2 * i + 1] = std::sin(angle);
  }
}

namespace {

// Rotates pairs (a, b) of one head by the precomputed angles.
void rotate_head(float* head, const float* cos_sin, const RopeParams& p) {
  const int half = p.head_size / 2;
  const bool adjacent = p.layout == RopeLayout::adjacent_pairs;
  for (int i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    float* a = adjacent ? head + 2 * i : head + i;
    float* b = adjacent ? head + 2 * i + 1 : head + i + half;
    const float v0 = *a, v1 = *b;
    *a = v0 * c - v1 * s;
    *b = v0 * s + v1 * c;
  }
}

}  // namespace

void rotary(float* q, float* k, const float* cos_sin, const RopeParams& p) {
  for (int h = 0; h < p.num_heads; ++h) rotate_head(q + h * p.head_size, cos_sin, p);
  for (int h = 0; h < p.num_kv_heads; ++h) rotate_head(k + h * p.head_size, cos_sin, p);
}

void rotary(float* q, float* k, int pos, const RopeParams& p) {
  std::vector<float> cos_sin(static_cast<std::size_t>(p.head_size));
  rope_angles(pos, p, cos_sin.data());
  rotary(q, k, cos_sin.data(), p);
}

const float* RopeTable::angles(int pos, const RopeParams& p) {
  const RopeScaling &a = p.scaling, &b = params_.scaling;
  const bool same = p.head_size == params_.head_size && p.theta == params_.theta && a.factor == b.factor &&
                    a.low_freq_factor == b.low_freq_factor && a.high_freq_factor == b.high_freq_factor &&
                    a.original_max_positions == b.original_max_positions;
  if (!same) {
    params_ = p;
    num_positions_ = 0;
  }
  if (pos >= num_positions_) {
    const int grown = std::max(pos + 1, 2 * num_positions_);
    cos_sin_.resize(static_cast<std::size_t>(grown) * p.head_size);
    for (int q = num_positions_; q < grown; ++q) rope_angles(q, p, cos_sin_.data() + static_cast<std::size_t>(q) * p.head_size);
    num_positions_ = grown;
  }
  return cos_sin_.data() + static_cast<std::size_t>(pos) * p.head_size;
}

void silu_mul(const float* gate, const float* up, std::int64_t n, float* out) {
#pragma omp parallel for if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    g *= 1.0f / (1.0f + std::exp(-g));
    out[i] = g * up[i];
  }
}

void write_kv_token(const float* k, const float* v, const KvCacheSpec& spec, float* pool, int layer,
                    std::int64_t slot) {
  const std::int64_t block = slot / spec.block_size;
  const int offset = static_cast<int>(slot % spec.block_size);
  const int hs = spec.head_size;
  float* kb = pool + spec.offset(block, layer, 0);
  float* vb = pool + spec.offset(block, layer, 1);
  for (int h = 0; h < spec.num_kv_heads; ++h) {
    const std::size_t at = (static_cast<std::size_t>(h) * spec.block_size + offset) * hs;
    std::memcpy(kb + at, k + h * hs, hs * sizeof(float));
    std::memcpy(vb + at, v + h * hs, hs * sizeof(float));
  }
}

}  // namespace pagedserve::kernels::cpu
