#include "kernels/cpu/cpu_ops.hpp"

#include <cblas.h>

#include <cmath>
#include <cstring>

namespace pagedserve::kernels::cpu {

void rms_norm(const float* x, const float* weight, float eps, std::int64_t rows, std::int64_t dim, float* out) {
#pragma omp parallel for if (rows > 4)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float ss = 0.0f;
    for (std::int64_t j = 0; j < dim; ++j) ss += xr[j] * xr[j];
    ss /= static_cast<float>(dim);
    ss += eps;
    ss = 1.0f / std::sqrt(ss);
    float* o = out + r * dim;
    for (std::int64_t j = 0; j < dim; ++j) o[j] = weight[j] * (ss * xr[j]);
  }
}

void matmul(const float* x, const float* w, std::int64_t n, std::int64_t in, std::int64_t out_features, float* out) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(out_features),
              static_cast<int>(in), 1.0f, x, static_cast<int>(in), w, static_cast<int>(in), 0.0f, out,
              static_cast<int>(out_features));
}

namespace {

// Rotates pairs (a, b) of one head by pos * theta^(-2i/hs) (rescaled for
// Llama 3.x: kernels/rope.hpp).
void rotate_head(float* head, int pos, const RopeParams& p) {
  const int hs = p.head_size;
  const int half = hs / 2;
  for (int i = 0; i < half; ++i) {
    const float freq =
        scaled_inv_freq(1.0f / std::pow(p.theta, static_cast<float>(2 * i) / static_cast<float>(hs)), p.scaling);
    const float angle = static_cast<float>(pos) * freq;
    const float c = std::cos(angle), s = std::sin(angle);
    float* a = p.layout == RopeLayout::adjacent_pairs ? head + 2 * i : head + i;
    float* b = p.layout == RopeLayout::adjacent_pairs ? head + 2 * i + 1 : head + i + half;
    const float v0 = *a, v1 = *b;
    *a = v0 * c - v1 * s;
    *b = v0 * s + v1 * c;
  }
}

}  // namespace

void rotary(float* q, float* k, int pos, const RopeParams& p) {
  for (int h = 0; h < p.num_heads; ++h) rotate_head(q + h * p.head_size, pos, p);
  for (int h = 0; h < p.num_kv_heads; ++h) rotate_head(k + h * p.head_size, pos, p);
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
