#include "model/llama.hpp"

#include <stdexcept>

namespace pagedserve::model {

using kernels::OwnedTensor;
using kernels::Tensor;

LlamaModel::LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend)
    : config_(config), backend_(backend) {
  config_.validate();
  if (static_cast<int>(weights.layers.size()) != config_.num_layers)
    throw std::invalid_argument("the weights have " + std::to_string(weights.layers.size()) + " layers, the config " +
                                std::to_string(config_.num_layers));
  embedding_ = upload(weights.token_embedding);
  final_norm_ = upload(weights.final_norm);
  lm_head_ = weights.lm_head.data == weights.token_embedding.data ? embedding_ : upload(weights.lm_head);
  for (const auto& lw : weights.layers)
    layers_.push_back({upload(lw.attn_norm), upload(lw.wq), upload(lw.wk), upload(lw.wv), upload(lw.wo),
                       upload(lw.ffn_norm), upload(lw.w_gate), upload(lw.w_down), upload(lw.w_up)});
}

OwnedTensor LlamaModel::upload(const HostTensor& t) {
  if (t.empty()) throw std::invalid_argument("a weight tensor is missing");
  OwnedTensor d = backend_.upload_weight(t.view());
  weight_bytes_ += d.view.bytes();
  return d;
}

kernels::KvCacheSpec LlamaModel::kv_spec(int num_blocks, int block_size, kernels::DType dtype) const {
  kernels::KvCacheSpec spec;
  spec.num_blocks = num_blocks;
  spec.num_layers = config_.num_layers;
  spec.num_kv_heads = config_.num_kv_heads;
  spec.block_size = block_size;
  spec.head_size = config_.head_size;
  spec.dtype = dtype;
  return spec;
}

void LlamaModel::ensure_scratch(std::int64_t n, std::int64_t num_logit_rows) {
  const auto dt = backend_.activation_dtype();
  if (n > s_.capacity) {
    const std::int64_t q = static_cast<std::int64_t>(config_.num_heads) * config_.head_size;
    const std::int64_t kv = static_cast<std::int64_t>(config_.num_kv_heads) * config_.head_size;
    s_.capacity = n;
    s_.x = backend_.allocate_tensor(dt, n, config_.dim);
    s_.xb = backend_.allocate_tensor(dt, n, config_.dim);
    s_.q = backend_.allocate_tensor(dt, n, q);
    s_.k = backend_.allocate_tensor(dt, n, kv);
    s_.v = backend_.allocate_tensor(dt, n, kv);
    s_.att = backend_.allocate_tensor(dt, n, q);
    s_.gate = backend_.allocate_tensor(dt, n, config_.hidden_dim);
    s_.up = backend_.allocate_tensor(dt, n, config_.hidden_dim);
    s_.hidden = backend_.allocate_tensor(dt, n, config_.hidden_dim);
  }
  if (num_logit_rows > s_.logits_in.view.rows) {
    s_.logits_in = backend_.allocate_tensor(dt, num_logit_rows, config_.dim);
    s_.logits = backend_.allocate_tensor(dt, num_logit_rows, config_.vocab_size);
  }
}

// The buffers' first n rows (they are sized for the largest batch seen).
static Tensor rows(const OwnedTensor& t, std::int64_t n) { return t.view.row_slice(0, n); }

void LlamaModel::attention_block(const Layer& w, int layer, const kernels::StepBatch& batch, kernels::KvCache& cache,
                                 std::int64_t n) {
  Tensor x = rows(s_.x, n), xb = rows(s_.xb, n), q = rows(s_.q, n), k = rows(s_.k, n), v = rows(s_.v, n),
         att = rows(s_.att, n);
  backend_.rms_norm(x, w.attn_norm.view, config_.norm_eps, xb);
  backend_.matmul(xb, w.wq.view, q);
  backend_.matmul(xb, w.wk.view, k);
  backend_.matmul(xb, w.wv.view, v);
  backend_.rotary(q, k, batch, config_.rope_params());
  // Every new K/V of the layer is in the cache before any query reads it,
  // so tokens of one prefill chunk see each other.
  backend_.write_kv(k, v, cache, layer, batch);
  backend_.paged_attention(q, cache, layer, batch, config_.attention_params(), att);
  backend_.matmul(att, w.wo.view, xb);
  backend_.add(x, xb);
}

void LlamaModel::ffn_block(const Layer& w, std::int64_t n) {
  Tensor x = rows(s_.x, n), xb = rows(s_.xb, n), gate = rows(s_.gate, n), up = rows(s_.up, n),
         hidden = rows(s_.hidden, n);
  backend_.rms_norm(x, w.ffn_norm.view, config_.norm_eps, xb);
  backend_.matmul(xb, w.w_gate.view, gate);
  backend_.matmul(xb, w.w_up.view, up);
  backend_.silu_mul(gate, up, hidden);
  backend_.matmul(hidden, w.w_down.view, xb);
  backend_.add(x, xb);
}

void LlamaModel::forward(const kernels::BatchMetadata& meta, kernels::KvCache& cache, std::vector<float>& logits) {
  const std::int64_t m = static_cast<std::int64_t>(meta.logits_rows.size());
  logits.assign(static_cast<std::size_t>(m) * config_.vocab_size, 0.0f);
  const Tensor out = forward_logits(meta, cache);
  if (out.rows > 0) backend_.to_host_f32(out, logits);
}

Tensor LlamaModel::forward_logits(const kernels::BatchMetadata& meta, kernels::KvCache& cache) {
  const std::int64_t n = meta.num_tokens();
  const std::int64_t m = static_cast<std::int64_t>(meta.logits_rows.size());
  if (n == 0) return Tensor{nullptr, backend_.activation_dtype(), 0, config_.vocab_size};
  ensure_scratch(n, m);
  auto batch = backend_.prepare(meta);
  backend_.embedding(embedding_.view, *batch, rows(s_.x, n));
  for (int l = 0; l < config_.num_layers; ++l) {
    attention_block(layers_[l], l, *batch, cache, n);
    ffn_block(layers_[l], n);
  }
  if (m == 0) return Tensor{nullptr, backend_.activation_dtype(), 0, config_.vocab_size};
  // Only the rows that sample go through the final norm and the classifier.
  Tensor last = rows(s_.logits_in, m), out = rows(s_.logits, m);
  backend_.gather_logit_rows(rows(s_.x, n), *batch, last);
  backend_.rms_norm(last, final_norm_.view, config_.norm_eps, last);
  backend_.matmul(last, lm_head_.view, out);
  return out;
}

}  // namespace pagedserve::model
