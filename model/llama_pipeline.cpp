// A pipeline stage's step (model/pipeline_parallel.hpp): the step's batch
// cut into micro-batches of whole sequences, each run through this stage's
// layers and handed on before the next one starts, so the stages overlap.
// Every stage cuts the same plan the same way, so their micro-batches
// match one for one; the KV cache of a stage holds its own layers only.

#include "model/llama.hpp"

namespace pagedserve::model {

using kernels::Tensor;

static Tensor first_rows(const kernels::OwnedTensor& t, std::int64_t n) { return t.view.row_slice(0, n); }

Tensor LlamaModel::forward_stage(const kernels::BatchMetadata& meta, kernels::KvCache& cache) {
  const std::int64_t n = meta.num_tokens();
  const std::int64_t m = makes_logits_ ? static_cast<std::int64_t>(meta.logits_rows.size()) : 0;
  const Tensor none{nullptr, backend_.activation_dtype(), 0, config_.vocab_size};
  if (n == 0) return none;
  ensure_scratch(n, m);
  for (const auto& mb : split_micro_batches(meta, micro_batches_)) {
    const std::int64_t rows = mb.meta.num_tokens();
    auto batch = backend_.prepare(mb.meta);
    take_hidden(*batch, rows);
    run_layers(*batch, cache, rows);
    if (makes_logits_) classify(*batch, rows, mb.first_logit, static_cast<std::int64_t>(mb.meta.logits_rows.size()));
    else pass_hidden(rows);
  }
  return m > 0 ? first_rows(s_.logits, m) : none;
}

// The first stage embeds; the others take the residual stream as the
// stage before left it (x and the last block's output, not yet added).
void LlamaModel::take_hidden(const kernels::StepBatch& batch, std::int64_t n) {
  if (embeds_) return embed(batch, n);
  kernels::HiddenState h = from_stage_->receive();
  backend_.from_host_f32(h.x, first_rows(s_.x, n));
  backend_.from_host_f32(h.residual, first_rows(s_.residual, n));
}

void LlamaModel::pass_hidden(std::int64_t n) {
  kernels::HiddenState h;
  h.x.resize(static_cast<std::size_t>(n * config_.dim));
  h.residual.resize(h.x.size());
  backend_.to_host_f32(first_rows(s_.x, n), h.x);
  backend_.to_host_f32(first_rows(s_.residual, n), h.residual);
  to_stage_->send(std::move(h));
}

}  // namespace pagedserve::model
