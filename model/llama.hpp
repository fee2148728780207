#pragma once
// The Llama forward pass over one step's batch (prefill chunks and decode
// tokens of many sequences together), written against kernels::Backend
// alone: it never sees how or where the kernels run.

#include <initializer_list>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/collective.hpp"
#include "kernels/stage_link.hpp"
#include "model/config.hpp"
#include "model/pipeline_parallel.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

class LlamaModel {
 public:
  // Uploads the weights to `backend`, which must outlive the model.
  LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend);
  // A pipeline stage (model/pipeline_parallel.hpp): uploads only `layers`
  // of `weights` (which holds them all), the embedding only on the first
  // stage, the final norm and the classifier only on the last.
  LlamaModel(const ModelConfig& config, const ModelWeights& weights, kernels::Backend& backend, LayerRange layers);

  const ModelConfig& config() const { return config_; }
  kernels::Backend& backend() { return backend_; }
  // The KV pool shape this model needs for `num_blocks` blocks.
  kernels::KvCacheSpec kv_spec(int num_blocks, int block_size, kernels::DType dtype) const;
  std::size_t weight_bytes() const { return weight_bytes_; }
  // Weight bytes one decode step reads from memory whatever its batch: every
  // matrix once (the classifier included), but of an untied embedding table
  // only the batch's rows.
  std::size_t streamed_weight_bytes() const { return weight_bytes_ - (lm_head_.buffer.ptr == embedding_.buffer.ptr ? 0 : embedding_.view.bytes()); }

  // Runs every layer for the batch, writing the new K/V into `cache`, and
  // returns the logits of `meta.logits_rows` as [rows, vocab] on the host.
  void forward(const kernels::BatchMetadata& meta, kernels::KvCache& cache, std::vector<float>& logits);
  // The same, but the logits [rows, vocab] stay in backend memory; the view
  // is valid until the next forward. Decode steps of up to kMaxRecordedBatch
  // sequences run as recorded steps where the backend records them
  // (llama_recorded.cpp).
  kernels::Tensor forward_logits(const kernels::BatchMetadata& meta, kernels::KvCache& cache);
  static constexpr int kMaxRecordedBatch = 256;

  // A tensor-parallel rank (model/tensor_parallel.hpp): the o and down
  // projections' partial sums are added up over `group` before they join
  // the residual stream. The group must outlive the model.
  // With more than one rank the embedding and the classifier are
  // vocab-parallel: this rank's weights hold only the rows of
  // vocab_range(vocab_size, rank, world) (model/tensor_parallel.hpp).
  void join_tensor_parallel_group(kernels::Collective& group);
  // A pipeline stage takes each micro-batch's hidden states from `from`
  // (null on the first stage, which embeds) and hands them on to `to` (null
  // on the last stage, which alone returns logits). The links must outlive
  // the model.
  void join_pipeline(kernels::StageLink* from, kernels::StageLink* to, int micro_batches);
  // Whether forward returns logits: false on all but a pipeline's last stage.
  bool makes_logits() const { return makes_logits_; }

 private:
  // With merged projections (Backend::merges_projections) wqkv and w_gate_up
  // hold the stacked weights and wq, wk, wv, w_gate, w_up stay empty.
  // bq/bk/bv (or the stacked bqkv) and q_norm/k_norm exist only for the
  // architectures that have them.
  struct Layer {
    kernels::OwnedTensor attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_down, w_up, wqkv, w_gate_up;
    kernels::OwnedTensor bq, bk, bv, bqkv, q_norm, k_norm;
  };
  // Activation buffers, grown to the largest batch seen and then reused.
  // x is the residual stream; `residual` the output of a block not yet
  // added to it (added by the next norm: Backend::add_rms_norm).
  struct Scratch {
    std::int64_t capacity = 0;
    kernels::OwnedTensor x, xb, residual, q, k, v, att, gate, up, hidden, qkv, gate_up, logits_in, logits;
    kernels::OwnedTensor logits_local;  // vocab-parallel: this rank's columns of the logits
  };

  kernels::OwnedTensor upload(const HostTensor& t);
  kernels::OwnedTensor upload_stacked(std::initializer_list<const HostTensor*> parts);
  kernels::OwnedTensor upload_concatenated(std::initializer_list<const HostTensor*> parts);  // q/k/v biases
  Layer upload_layer(const LayerWeights& lw);
  void upload_attention_extras(const LayerWeights& lw, Layer& l);
  // q, k, v of the normalised input: projections, biases, q/k norms, RoPE.
  void project_qkv(const Layer& w, const kernels::StepBatch& batch, std::int64_t n);
  void ensure_scratch(std::int64_t num_tokens, std::int64_t num_logit_rows);
  // x (+ the last block's output, after the first layer) -> xb normalised.
  void norm_input(const kernels::OwnedTensor& weight, bool pending_residual, std::int64_t n);
  void attention_block(const Layer& w, int layer, const kernels::StepBatch& batch, kernels::KvCache& cache,
                       std::int64_t n);
  void ffn_block(const Layer& w, std::int64_t n);
  // A block's output on a tensor-parallel rank is a partial sum.
  void reduce_block_output(std::int64_t n);
  // Every layer, then the logits of the first m rows of batch.logits_rows.
  void run_step(const kernels::StepBatch& batch, kernels::KvCache& cache, std::int64_t n, std::int64_t m);
  void run_layers(const kernels::StepBatch& batch, kernels::KvCache& cache, std::int64_t n);
  // The token embeddings into x: a masked lookup summed over the ranks when
  // vocab-parallel.
  void embed(const kernels::StepBatch& batch, std::int64_t n);
  bool vocab_parallel() const { return tensor_parallel_ != nullptr && tensor_parallel_->world_size() > 1; }
  // The final norm and the classifier for batch.logits_rows, into the step's
  // logits rows [first, first + m).
  void classify(const kernels::StepBatch& batch, std::int64_t n, std::int64_t first, std::int64_t m);
  // A pipeline stage's step (llama_pipeline.cpp): micro-batch by micro-batch.
  kernels::Tensor forward_stage(const kernels::BatchMetadata& meta, kernels::KvCache& cache);
  void take_hidden(const kernels::StepBatch& batch, std::int64_t n);
  void pass_hidden(std::int64_t n);
  bool recordable_decode(const kernels::BatchMetadata& meta) const;
  kernels::Tensor forward_recorded(const kernels::BatchMetadata& meta, kernels::KvCache& cache);

  ModelConfig config_;
  kernels::Backend& backend_;
  // q/k/v as one GEMM where the backend merges projections, except with
  // q/k norms, which come between the projection and the rotation that
  // split_qkv_rotary fuses.
  bool merge_qkv_ = false;
  kernels::OwnedTensor embedding_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  std::size_t weight_bytes_ = 0;
  Scratch s_;
  const void* recorded_cache_ = nullptr;  // the KV pool the recorded steps write
  kernels::Collective* tensor_parallel_ = nullptr;
  std::int32_t first_token_id_ = 0;  // of this rank's vocab-parallel rows
  LayerRange layer_range_;  // this model's layers of config_.num_layers
  bool embeds_ = true, makes_logits_ = true;
  kernels::StageLink* from_stage_ = nullptr;
  kernels::StageLink* to_stage_ = nullptr;
  int micro_batches_ = 1;
  bool pipelined_ = false;
};

}  // namespace pagedserve::model
