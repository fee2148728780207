#include "model/dummy_weights.hpp"

#include <cstring>
#include <memory>

namespace pagedserve::model {

namespace {

std::uint64_t next(std::uint64_t& s) {  // xorshift64*: fast enough for 7e9 values
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

HostTensor make_tensor(std::int64_t rows, std::int64_t cols, kernels::DType dtype, float amplitude,
                       std::uint64_t seed) {
  const std::size_t n = static_cast<std::size_t>(rows * cols);
  auto buffer = std::shared_ptr<std::byte[]>(new std::byte[n * kernels::dtype_size(dtype)]);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < n; ++i) {
    // amplitude 0 means a norm weight: exactly 1.
    float v = amplitude == 0 ? 1.0f
                             : (static_cast<float>(next(s) >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f) * amplitude;
    if (dtype == kernels::DType::f32) {
      std::memcpy(buffer.get() + i * 4, &v, 4);
    } else {
      std::uint16_t h = dtype == kernels::DType::f16 ? kernels::float_to_half(v) : kernels::float_to_bf16(v);
      std::memcpy(buffer.get() + i * 2, &h, 2);
    }
  }
  HostTensor t;
  t.owner = std::shared_ptr<const void>(buffer, buffer.get());
  t.data = buffer.get();
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  return t;
}

}  // namespace

ModelWeights make_dummy_weights(const ModelConfig& c, kernels::DType dtype, std::uint64_t seed) {
  c.validate();
  const float a = 0.02f * 1.7320508f;  // U(-a, a) has standard deviation 0.02
  const std::int64_t q = static_cast<std::int64_t>(c.num_heads) * c.head_size;
  const std::int64_t kv = static_cast<std::int64_t>(c.num_kv_heads) * c.head_size;
  std::uint64_t id = seed * 1000003;
  ModelWeights w;
  w.token_embedding = make_tensor(c.vocab_size, c.dim, dtype, a, ++id);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = make_tensor(1, c.dim, dtype, 0, ++id);
    lw.wq = make_tensor(q, c.dim, dtype, a, ++id);
    lw.wk = make_tensor(kv, c.dim, dtype, a, ++id);
    lw.wv = make_tensor(kv, c.dim, dtype, a, ++id);
    lw.wo = make_tensor(c.dim, q, dtype, a, ++id);
    lw.ffn_norm = make_tensor(1, c.dim, dtype, 0, ++id);
    lw.w_gate = make_tensor(c.hidden_dim, c.dim, dtype, a, ++id);
    lw.w_down = make_tensor(c.dim, c.hidden_dim, dtype, a, ++id);
    lw.w_up = make_tensor(c.hidden_dim, c.dim, dtype, a, ++id);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = make_tensor(1, c.dim, dtype, 0, ++id);
  w.lm_head = c.tied_embeddings ? w.token_embedding : make_tensor(c.vocab_size, c.dim, dtype, a, ++id);
  return w;
}

}  // namespace pagedserve::model
