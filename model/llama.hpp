#pragma once
// The Llama forward pass over one step's batch (prefill chunks and decode
// tokens of many sequences together), written against kernels::Backend
// alone: it never sees how or where the kernels run.

#include <vector>

#include "kernels/backend.hpp"
#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

class LlamaModel {
 public:
  // Uploads the weights to `backend`, which must outlive the model.
  LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend);

  const ModelConfig& config() const { return config_; }
  kernels::Backend& backend() { return backend_; }
  // The KV pool shape this model needs for `num_blocks` blocks.
  kernels::KvCacheSpec kv_spec(int num_blocks, int block_size, kernels::DType dtype) const;
  std::size_t weight_bytes() const { return weight_bytes_; }

  // Runs every layer for the batch, writing the new K/V into `cache`, and
  // returns the logits of `meta.logits_rows` as [rows, vocab] on the host.
  void forward(const kernels::BatchMetadata& meta, kernels::KvCache& cache, std::vector<float>& logits);
  // The same, but the logits [rows, vocab] stay in backend memory (for
  // Backend::sample); the view is valid until the next forward.
  kernels::Tensor forward_logits(const kernels::BatchMetadata& meta, kernels::KvCache& cache);

 private:
  struct Layer {
    kernels::OwnedTensor attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_down, w_up;
  };
  // Activation buffers, grown to the largest batch seen and then reused.
  struct Scratch {
    std::int64_t capacity = 0;
    kernels::OwnedTensor x, xb, q, k, v, att, gate, up, hidden, logits_in, logits;
  };

  kernels::OwnedTensor upload(const HostTensor& t);
  void ensure_scratch(std::int64_t num_tokens, std::int64_t num_logit_rows);
  void attention_block(const Layer& w, int layer, const kernels::StepBatch& batch, kernels::KvCache& cache,
                       std::int64_t n);
  void ffn_block(const Layer& w, std::int64_t n);

  ModelConfig config_;
  kernels::Backend& backend_;
  kernels::OwnedTensor embedding_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  std::size_t weight_bytes_ = 0;
  Scratch s_;
};

}  // namespace pagedserve::model
