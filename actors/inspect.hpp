#pragma once
// CAF `inspect` overloads for every plain type a message carries, so each
// message can be serialized and cross a process boundary. They live here,
// in the types' own namespaces (found by argument-dependent lookup), so
// memory/, model/ and engine/ stay free of CAF.
//
// Fields CAF 0.17 cannot serialize directly (std::optional, std::variant,
// an immutable payload behind a shared_ptr) go through a local copy and a
// load callback that writes it back after loading.

#include <caf/all.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "actors/admin_snapshot.hpp"
#include "actors/engine.hpp"
#include "engine/memory_request.hpp"
#include "engine/request.hpp"
#include "engine/step_plan.hpp"
#include "kernels/batch.hpp"
#include "kernels/nccl.hpp"
#include "kernels/sampling.hpp"
#include "memory/block_manager.hpp"
#include "model/sampler.hpp"

namespace pagedserve::detail {

// An optional as (has_value, value).
template <class T>
struct OptionalFields {
  explicit OptionalFields(const std::optional<T>& x) : has(x.has_value()), value(x.value_or(T{})) {}
  bool has;
  T value;
  std::optional<T> get() const { return has ? std::optional<T>(value) : std::nullopt; }
};

inline auto load_into(auto& target, auto make) {
  return caf::meta::load_callback([&target, make]() -> caf::error {
    target = make();
    return caf::none;
  });
}

// Loads alternative `kind` of a variant (I counts up to it).
template <std::size_t I = 0, class Inspector, class... Ts>
typename Inspector::result_type load_alternative(Inspector& f, std::variant<Ts...>& x, std::uint8_t kind) {
  if constexpr (I == sizeof...(Ts)) {
    return caf::make_error(caf::sec::invalid_argument, "unknown variant alternative");
  } else {
    if (kind == I) return f(x.template emplace<I>());
    return load_alternative<I + 1>(f, x, kind);
  }
}

// A variant as its alternative's index, then the alternative.
template <class Inspector, class... Ts>
typename Inspector::result_type inspect_variant(Inspector& f, std::variant<Ts...>& x, const char* name) {
  if constexpr (Inspector::writes_state) {
    std::uint8_t kind = 0;
    if (auto err = f(kind)) return err;
    return load_alternative(f, x, kind);
  } else {
    auto kind = static_cast<std::uint8_t>(x.index());
    return std::visit([&](auto& alternative) { return f(caf::meta::type_name(name), kind, alternative); }, x);
  }
}

}  // namespace pagedserve::detail

namespace pagedserve::memory {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BlockCopy& x) {
  return f(caf::meta::type_name("BlockCopy"), x.src, x.dst);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PoolStats& x) {
  return f(caf::meta::type_name("PoolStats"), x.num_total, x.num_free, x.num_used, x.num_cached, x.num_shared);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BlockManagerStats& x) {
  return f(caf::meta::type_name("BlockManagerStats"), x.gpu, x.cpu, x.num_token_slots, x.num_tokens_stored,
           x.num_cow_copies, x.num_swapped_out_blocks, x.num_swapped_in_blocks, x.num_prefix_queries,
           x.num_prefix_hits);
}

}  // namespace pagedserve::memory

namespace pagedserve::model {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SamplingParams& x) {
  detail::OptionalFields<std::uint64_t> seed(x.seed);
  return f(caf::meta::type_name("SamplingParams"), x.temperature, x.top_k, x.top_p, x.min_p, seed.has, seed.value,
           x.repetition_penalty, x.presence_penalty, x.frequency_penalty, x.stop_token_ids, x.stop, x.max_tokens,
           x.logprobs, x.ignore_eos, x.constraint.kind, x.constraint.source, detail::load_into(x.seed, [&seed] { return seed.get(); }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, TokenChoice& x) {
  return f(caf::meta::type_name("TokenChoice"), x.token_id, x.logprob);
}

}  // namespace pagedserve::model

namespace pagedserve::kernels {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, TokenLogprob& x) {
  return f(caf::meta::type_name("TokenLogprob"), x.token_id, x.logprob);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BatchMetadata& x) {
  return f(caf::meta::type_name("BatchMetadata"), x.token_ids, x.positions, x.slot_mapping, x.query_start,
           x.context_lens, x.block_tables, x.max_blocks_per_seq, x.logits_rows);
}

// NCCL's 128 opaque bytes, as they are.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NcclUniqueId& x) {
  return f(caf::meta::type_name("NcclUniqueId"), x.internal);
}

}  // namespace pagedserve::kernels

namespace pagedserve::engine {

// --- the step ------------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RowRequest& x) {
  return f(caf::meta::type_name("RowRequest"), x.seq_id, x.fork_ids, x.draws, x.num_candidates);
}

// The parameters are immutable and shared by a request's samplers in one
// process; across processes each setup carries its own copy.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SamplerSetup& x) {
  model::SamplingParams params = x.params ? *x.params : model::SamplingParams{};
  detail::OptionalFields<std::uint64_t> seed(x.seed);
  return f(caf::meta::type_name("SamplerSetup"), x.seq_id, params, seed.has, seed.value, x.context, x.num_prompt_tokens,
           detail::load_into(x.params, [&params] { return std::make_shared<const model::SamplingParams>(params); }),
           detail::load_into(x.seed, [&seed] { return seed.get(); }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, StepPlan& x) {
  return f(caf::meta::type_name("StepPlan"), x.step_id, x.swap_out, x.swap_in, x.copy_on_write, x.batch, x.rows,
           x.new_samplers, x.released_samplers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SampledToken& x) {
  return f(caf::meta::type_name("SampledToken"), x.seq_id, x.token_id, x.logprob, x.top_logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RowResult& x) {
  return f(caf::meta::type_name("RowResult"), x.first_sample, x.num_samples, x.candidates);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, StepResult& x) {
  return f(caf::meta::type_name("StepResult"), x.step_id, x.rows, x.samples);
}

// --- memory request and grant ----------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MemoryOp& x) {
  return f(caf::meta::type_name("MemoryOp"), x.kind, x.seq_id, x.arg);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SeqSlots& x) {
  return f(caf::meta::type_name("SeqSlots"), x.seq_id, x.num_tokens, x.num_computed, x.num_slotted, x.first_token,
           x.row, x.new_samplers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, GroupSlots& x) {
  return f(caf::meta::type_name("GroupSlots"), x.max_num_running_seqs, x.first_seq, x.num_seqs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MemoryRequest& x) {
  return f(caf::meta::type_name("MemoryRequest"), x.step_id, x.max_num_seqs, x.max_num_batched_tokens,
           x.preemption_mode, x.ops, x.released, x.groups, x.num_running, x.num_swapped, x.seqs, x.tokens);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ScheduledSlot& x) {
  return f(caf::meta::type_name("ScheduledSlot"), x.group, x.seq, x.num_new_tokens, x.samples);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, GroupChange& x) {
  return f(caf::meta::type_name("GroupChange"), x.group, x.fate, x.error, x.num_computed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MemoryGrant& x) {
  return f(caf::meta::type_name("MemoryGrant"), x.step_id, x.block_size, x.scheduled, x.changes, x.swap_out,
           x.swap_in, x.copy_on_write, x.num_prefill_tokens, x.num_decode_tokens, x.executes);
}

// --- requests and their events ----------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, GenerateRequest& x) {
  return f(caf::meta::type_name("GenerateRequest"), x.request_id, x.prompt_ids, x.sampling, x.n, x.best_of,
           x.use_beam_search, x.length_penalty, x.early_stopping, x.priority);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, TokenEvent& x) {
  return f(caf::meta::type_name("TokenEvent"), x.request_id, x.index, x.token_id, x.text, x.logprob, x.top_logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SampleFinished& x) {
  return f(caf::meta::type_name("SampleFinished"), x.request_id, x.index, x.finish_reason, x.error,
           x.cumulative_logprob);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RequestDone& x) {
  return f(caf::meta::type_name("RequestDone"), x.request_id, x.prompt_tokens, x.completion_tokens,
           x.num_cached_prompt_tokens, x.time_to_first_token, x.queue_time);
}

// An event as its alternative's index, then the alternative.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Event& x) {
  return detail::inspect_variant(f, x, "Event");
}

// --- the admin views ----------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SchedulerCounters& x) {
  return f(caf::meta::type_name("SchedulerCounters"), x.num_steps, x.num_preemptions_swap,
           x.num_preemptions_recompute, x.num_prefill_tokens, x.num_decode_tokens, x.num_rejected);
}

}  // namespace pagedserve::engine

namespace pagedserve::actors {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, EngineMetrics& x) {
  return f(caf::meta::type_name("EngineMetrics"), x.num_running, x.num_waiting, x.num_swapped, x.gpu_blocks_total,
           x.gpu_blocks_used, x.gpu_blocks_cached, x.gpu_blocks_peak_used, x.cpu_blocks_total, x.cpu_blocks_used,
           x.kv_utilization, x.num_preemptions_swap, x.num_preemptions_recompute, x.prefix_queries, x.prefix_hits,
           x.num_cow_copies, x.prompt_tokens_total, x.generation_tokens_total, x.requests_finished, x.num_steps,
           x.ttft_seconds, x.inter_token_seconds, x.iteration_tokens_counts, x.iteration_tokens_sum);
}

// --- the admin views ----------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AdminQuery& x) {
  return f(caf::meta::type_name("AdminQuery"), x.view, x.seq_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BlockSnapshot& x) {
  return f(caf::meta::type_name("BlockSnapshot"), x.id, x.ref_count, x.cached);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SeqSnapshot& x) {
  return f(caf::meta::type_name("SeqSnapshot"), x.seq_id, x.request_id, x.index, x.status, x.on_gpu, x.num_tokens,
           x.num_computed, x.blocks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SeqsSnapshot& x) {
  return f(caf::meta::type_name("SeqsSnapshot"), x.block_size, x.seqs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PoolsSnapshot& x) {
  return f(caf::meta::type_name("PoolsSnapshot"), x.block_size, x.stats, x.gpu_ref_counts, x.cpu_ref_counts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PrefixCacheSnapshot& x) {
  return f(caf::meta::type_name("PrefixCacheSnapshot"), x.enabled, x.num_cached_blocks, x.queries, x.hits, x.blocks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, QueuedRequest& x) {
  return f(caf::meta::type_name("QueuedRequest"), x.request_id, x.priority, x.num_seqs, x.prompt_tokens);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, QueuesSnapshot& x) {
  return f(caf::meta::type_name("QueuesSnapshot"), x.running, x.swapped, x.waiting);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NotLive& x) {
  return f(caf::meta::type_name("NotLive"), x.seq_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AdminSnapshot& x) {
  return detail::inspect_variant(f, x.view, "AdminSnapshot");
}

}  // namespace pagedserve::actors
