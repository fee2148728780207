#include "model/llama.hpp"

#include "model/tensor_parallel.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::model {

using kernels::OwnedTensor;
using kernels::Tensor;

LlamaModel::LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend)
    : LlamaModel(config, weights, backend, LayerRange{0, config.num_layers}) {}

LlamaModel::LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend,
                       LayerRange layers)
    : config_(config), backend_(backend), merge_qkv_(backend.merges_projections() && !config.qk_norm),
      layer_range_(layers), embeds_(layers.first == 0), makes_logits_(layers.end() == config.num_layers) {
  config_.validate();
  if (static_cast<int>(weights.layers.size()) != config_.num_layers)
    throw std::invalid_argument("the weights have " + std::to_string(weights.layers.size()) + " layers, the config " +
                                std::to_string(config_.num_layers));
  if (layers.first < 0 || layers.count < 1 || layers.end() > config_.num_layers)
    throw std::invalid_argument("a stage's layers must be a non-empty range of the model's");
  if (embeds_) embedding_ = upload(weights.token_embedding);
  if (makes_logits_) {
    final_norm_ = upload(weights.final_norm);
    const bool tied = weights.lm_head.same_as(weights.token_embedding);
    lm_head_ = tied && embeds_ ? embedding_ : upload(tied ? weights.token_embedding : weights.lm_head);
  }
  for (int l = layers.first; l < layers.end(); ++l) layers_.push_back(upload_layer(weights.layers[l]));
}

void LlamaModel::join_tensor_parallel_group(kernels::Collective& group) {
  const auto vocab = vocab_range(config_.vocab_size, group.rank(), group.world_size());
  for (const auto* t : {&embedding_, &lm_head_})
    if (t->buffer.ptr && group.world_size() > 1 && t->view.rows != vocab.count)
      throw std::invalid_argument("a tensor-parallel rank's embedding and classifier hold its vocab range only (shard_weights)");
  tensor_parallel_ = &group;
  first_token_id_ = vocab.first;
}

void LlamaModel::join_pipeline(kernels::StageLink* from, kernels::StageLink* to, int micro_batches) {
  if ((from == nullptr) != embeds_ || (to == nullptr) != makes_logits_)
    throw std::invalid_argument("a pipeline stage has a link exactly where it has a neighbour stage");
  from_stage_ = from;
  to_stage_ = to;
  micro_batches_ = std::max(1, micro_batches);
  pipelined_ = true;
}

LlamaModel::Layer LlamaModel::upload_layer(const LayerWeights& lw) {
  Layer l;
  l.attn_norm = upload(lw.attn_norm);
  l.wo = upload(lw.wo);
  l.ffn_norm = upload(lw.ffn_norm);
  l.w_down = upload(lw.w_down);
  if (merge_qkv_) {
    l.wqkv = upload_stacked({&lw.wq, &lw.wk, &lw.wv});
  } else {
    l.wq = upload(lw.wq);
    l.wk = upload(lw.wk);
    l.wv = upload(lw.wv);
  }
  if (backend_.merges_projections()) {
    l.w_gate_up = upload_stacked({&lw.w_gate, &lw.w_up});
  } else {
    l.w_gate = upload(lw.w_gate);
    l.w_up = upload(lw.w_up);
  }
  upload_attention_extras(lw, l);
  return l;
}

// Biases go up stacked like their weights when q/k/v are one GEMM.
void LlamaModel::upload_attention_extras(const LayerWeights& lw, Layer& l) {
  if (config_.qkv_bias) {
    if (merge_qkv_) {
      l.bqkv = upload_concatenated({&lw.bq, &lw.bk, &lw.bv});
    } else {
      l.bq = upload(lw.bq);
      l.bk = upload(lw.bk);
      l.bv = upload(lw.bv);
    }
  }
  if (config_.qk_norm) {
    l.q_norm = upload(lw.q_norm);
    l.k_norm = upload(lw.k_norm);
  }
}

OwnedTensor LlamaModel::upload(const HostTensor& t) {
  if (t.empty()) throw std::invalid_argument("a weight tensor is missing");
  OwnedTensor d = backend_.upload_weight(t.view());
  weight_bytes_ += d.view.bytes();
  return d;
}

// Row vectors [1, a], [1, b], ... side by side as [1, a + b + ...]: stacked
// as columns, which lie in memory exactly like the one long row.
OwnedTensor LlamaModel::upload_concatenated(std::initializer_list<const HostTensor*> parts) {
  std::vector<kernels::HostTensorView> columns;
  for (const HostTensor* t : parts) {
    if (t->empty()) throw std::invalid_argument("a weight tensor is missing");
    kernels::HostTensorView v = t->view();
    v.rows = t->rows * t->cols;
    v.cols = 1;
    columns.push_back(v);
  }
  OwnedTensor d = backend_.upload_stacked(columns);
  weight_bytes_ += d.view.bytes();
  d.view.cols = d.view.rows;
  d.view.rows = 1;
  return d;
}

OwnedTensor LlamaModel::upload_stacked(std::initializer_list<const HostTensor*> parts) {
  std::vector<kernels::HostTensorView> views;
  for (const HostTensor* t : parts) {
    if (t->empty()) throw std::invalid_argument("a weight tensor is missing");
    views.push_back(t->view());
  }
  OwnedTensor d = backend_.upload_stacked(views);
  weight_bytes_ += d.view.bytes();
  return d;
}

kernels::KvCacheSpec LlamaModel::kv_spec(int num_blocks, int block_size, kernels::DType dtype) const {
  kernels::KvCacheSpec spec;
  spec.num_blocks = num_blocks;
  spec.num_layers = layer_range_.count;
  spec.num_kv_heads = config_.num_kv_heads;
  spec.block_size = block_size;
  spec.head_size = config_.head_size;
  spec.dtype = dtype;
  return spec;
}

// Grows the buffers all or nothing: the capacity is recorded only once every
// allocation has succeeded, so after an out-of-memory the next step still
// sees the old, consistent buffers and their true size.
void LlamaModel::ensure_scratch(std::int64_t n, std::int64_t num_logit_rows) {
  const auto dt = backend_.activation_dtype();
  if (n > s_.capacity) {
    const std::int64_t q = static_cast<std::int64_t>(config_.num_heads) * config_.head_size;
    const std::int64_t kv = static_cast<std::int64_t>(config_.num_kv_heads) * config_.head_size;
    Scratch grown = s_;
    grown.x = backend_.allocate_tensor(dt, n, config_.dim);
    grown.xb = backend_.allocate_tensor(dt, n, config_.dim);
    grown.residual = backend_.allocate_tensor(dt, n, config_.dim);
    grown.q = backend_.allocate_tensor(dt, n, q);
    grown.k = backend_.allocate_tensor(dt, n, kv);
    grown.v = backend_.allocate_tensor(dt, n, kv);
    grown.att = backend_.allocate_tensor(dt, n, q);
    grown.hidden = backend_.allocate_tensor(dt, n, config_.hidden_dim);
    if (merge_qkv_) grown.qkv = backend_.allocate_tensor(dt, n, q + 2 * kv);
    if (backend_.merges_projections()) {
      grown.gate_up = backend_.allocate_tensor(dt, n, 2 * static_cast<std::int64_t>(config_.hidden_dim));
    } else {
      grown.gate = backend_.allocate_tensor(dt, n, config_.hidden_dim);
      grown.up = backend_.allocate_tensor(dt, n, config_.hidden_dim);
    }
    grown.capacity = n;
    s_ = std::move(grown);
    backend_.drop_graphs();  // recorded steps read the old buffers
  }
  if (num_logit_rows > s_.logits_in.view.rows && makes_logits_) {
    auto logits_in = backend_.allocate_tensor(dt, num_logit_rows, config_.dim);
    auto logits = backend_.allocate_tensor(dt, num_logit_rows, config_.vocab_size);
    if (vocab_parallel()) s_.logits_local = backend_.allocate_tensor(dt, num_logit_rows, lm_head_.view.rows);
    s_.logits_in = std::move(logits_in);
    s_.logits = std::move(logits);
    backend_.drop_graphs();
  }
}

// The buffers' first n rows (they are sized for the largest batch seen).
static Tensor rows(const OwnedTensor& t, std::int64_t n) { return t.view.row_slice(0, n); }

void LlamaModel::norm_input(const OwnedTensor& weight, bool pending_residual, std::int64_t n) {
  if (pending_residual) backend_.add_rms_norm(rows(s_.x, n), rows(s_.residual, n), weight.view, config_.norm_eps, rows(s_.xb, n));
  else backend_.rms_norm(rows(s_.x, n), weight.view, config_.norm_eps, rows(s_.xb, n));
}

// xb (the normalised input) -> residual (the block's output, not yet added).
void LlamaModel::attention_block(const Layer& w, int layer, const kernels::StepBatch& batch, kernels::KvCache& cache,
                                 std::int64_t n) {
  Tensor q = rows(s_.q, n), k = rows(s_.k, n), v = rows(s_.v, n), att = rows(s_.att, n);
  project_qkv(w, batch, n);
  // Every new K/V of the layer is in the cache before any query reads it,
  // so tokens of one prefill chunk see each other.
  backend_.write_kv(k, v, cache, layer, batch);
  backend_.paged_attention(q, cache, layer, batch, config_.attention_params(), att);
  backend_.matmul(att, w.wo.view, rows(s_.residual, n));
  reduce_block_output(n);
}

void LlamaModel::reduce_block_output(std::int64_t n) {
  if (tensor_parallel_) tensor_parallel_->all_reduce_sum(rows(s_.residual, n));
}

// Hugging Face's order: projection, + bias (Qwen2), per-head RMSNorm of q
// and k (Qwen3), then RoPE.
void LlamaModel::project_qkv(const Layer& w, const kernels::StepBatch& batch, std::int64_t n) {
  Tensor xb = rows(s_.xb, n), q = rows(s_.q, n), k = rows(s_.k, n), v = rows(s_.v, n);
  if (merge_qkv_) {
    Tensor qkv = rows(s_.qkv, n);
    backend_.matmul(xb, w.wqkv.view, qkv);
    if (config_.qkv_bias) backend_.add_bias(qkv, w.bqkv.view);
    backend_.split_qkv_rotary(qkv, q, k, v, batch, config_.rope_params());
    return;
  }
  backend_.matmul(xb, w.wq.view, q);
  backend_.matmul(xb, w.wk.view, k);
  backend_.matmul(xb, w.wv.view, v);
  if (config_.qkv_bias) {
    backend_.add_bias(q, w.bq.view);
    backend_.add_bias(k, w.bk.view);
    backend_.add_bias(v, w.bv.view);
  }
  if (config_.qk_norm) {
    backend_.head_rms_norm(q, w.q_norm.view, config_.norm_eps);
    backend_.head_rms_norm(k, w.k_norm.view, config_.norm_eps);
  }
  backend_.rotary(q, k, batch, config_.rope_params());
}

void LlamaModel::ffn_block(const Layer& w, std::int64_t n) {
  Tensor xb = rows(s_.xb, n), hidden = rows(s_.hidden, n);
  if (backend_.merges_projections()) {
    Tensor gate_up = rows(s_.gate_up, n);
    backend_.matmul(xb, w.w_gate_up.view, gate_up);
    backend_.silu_mul_halves(gate_up, hidden);
  } else {
    Tensor gate = rows(s_.gate, n), up = rows(s_.up, n);
    backend_.matmul(xb, w.w_gate.view, gate);
    backend_.matmul(xb, w.w_up.view, up);
    backend_.silu_mul(gate, up, hidden);
  }
  backend_.matmul(hidden, w.w_down.view, rows(s_.residual, n));
  reduce_block_output(n);
}

void LlamaModel::forward(const kernels::BatchMetadata& meta, kernels::KvCache& cache, std::vector<float>& logits) {
  const std::int64_t m = static_cast<std::int64_t>(meta.logits_rows.size());
  logits.assign(static_cast<std::size_t>(m) * config_.vocab_size, 0.0f);
  const Tensor out = forward_logits(meta, cache);
  if (out.rows > 0) backend_.to_host_f32(out, logits);
}

Tensor LlamaModel::forward_logits(const kernels::BatchMetadata& meta, kernels::KvCache& cache) {
  if (pipelined_) return forward_stage(meta, cache);
  const std::int64_t n = meta.num_tokens();
  const std::int64_t m = static_cast<std::int64_t>(meta.logits_rows.size());
  if (n == 0 || m == 0) {
    if (n > 0) {  // K/V still go into the cache
      ensure_scratch(n, 0);
      run_step(*backend_.prepare(meta), cache, n, 0);
    }
    return Tensor{nullptr, backend_.activation_dtype(), 0, config_.vocab_size};
  }
  if (backend_.supports_graphs() && recordable_decode(meta)) return forward_recorded(meta, cache);
  ensure_scratch(n, m);
  run_step(*backend_.prepare(meta), cache, n, m);
  return rows(s_.logits, m);
}

void LlamaModel::run_step(const kernels::StepBatch& batch, kernels::KvCache& cache, std::int64_t n, std::int64_t m) {
  embed(batch, n);
  run_layers(batch, cache, n);
  classify(batch, n, 0, m);
}

void LlamaModel::embed(const kernels::StepBatch& batch, std::int64_t n) {
  if (!vocab_parallel()) return backend_.embedding(embedding_.view, batch, rows(s_.x, n));
  backend_.embedding_rows(embedding_.view, first_token_id_, batch, rows(s_.x, n));
  tensor_parallel_->all_reduce_sum(rows(s_.x, n));  // one rank's row plus zeros: the row, exactly
}

// This model's layers; the KV cache holds only theirs, from 0.
void LlamaModel::run_layers(const kernels::StepBatch& batch, kernels::KvCache& cache, std::int64_t n) {
  for (int l = 0; l < layer_range_.count; ++l) {
    norm_input(layers_[l].attn_norm, layer_range_.first + l > 0, n);
    attention_block(layers_[l], l, batch, cache, n);
    norm_input(layers_[l].ffn_norm, true, n);
    ffn_block(layers_[l], n);
  }
}

void LlamaModel::classify(const kernels::StepBatch& batch, std::int64_t n, std::int64_t first, std::int64_t m) {
  backend_.add(rows(s_.x, n), rows(s_.residual, n));
  if (m == 0) return;
  // Only the rows that sample go through the final norm and the classifier.
  Tensor last = s_.logits_in.view.row_slice(first, m), out = s_.logits.view.row_slice(first, m);
  backend_.gather_logit_rows(rows(s_.x, n), batch, last);
  backend_.rms_norm(last, final_norm_.view, config_.norm_eps, last);
  if (!vocab_parallel()) return backend_.matmul(last, lm_head_.view, out);
  const Tensor local = s_.logits_local.view.row_slice(first, m);
  backend_.matmul(last, lm_head_.view, local);
  tensor_parallel_->all_gather_columns(local, out);
}

}  // namespace pagedserve::model
