#include "model/dummy_weights.hpp"

namespace pagedserve::model {

namespace {

// No host memory: the backend generates the values (kernels/synthetic.hpp).
HostTensor make_tensor(std::int64_t rows, std::int64_t cols, kernels::DType dtype, float amplitude,
                       std::uint64_t seed) {
  HostTensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.synthetic = kernels::SyntheticFill{seed, amplitude};
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
