#pragma once
// The executor that runs the model: owns the backend, the Llama model, the
// GPU KV pool and the CPU swap pool, and one sampler state per sequence
// (its random generator, output counts and context, so a seeded request
// draws the same tokens whatever shares its batch).
//
// On a pipeline stage before the last (model/pipeline_parallel.hpp) the
// executor copies its blocks and runs its layers, and draws nothing.
//
// Tokens are drawn by the backend (Backend::sample, on the GPU for CUDA)
// when it samples on its device, else by the host sampler (model/sampler),
// whose generator the CPU backend's tests and llama2.c parity rely on.
//
// Constrained rows' token masks depend only on their matchers, which the
// previous step's tokens moved: they are computed on a thread of the
// executor's own (engine/background_job.hpp) while this thread runs the
// forward pass, and joined before the draws (model_executor_constraints.cpp).
//
// Invariant: every sampler id a RowRequest names was set up by this or an
// earlier plan and not released since.

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/background_job.hpp"
#include "engine/executor.hpp"
#include "grammar/token_grammar_pool.hpp"
#include "kernels/backend.hpp"
#include "model/llama.hpp"

namespace pagedserve::engine {

class ModelExecutor final : public StepExecutor {
 public:
  // `model` must use `backend`. Allocates both pools (num_cpu_blocks may be 0).
  ModelExecutor(std::unique_ptr<kernels::Backend> backend, std::unique_ptr<model::LlamaModel> model,
                int num_gpu_blocks, int num_cpu_blocks, int block_size);
  // Borrows `model` and its backend, which must outlive the executor (a
  // benchmark runs many pools over one loaded model).
  ModelExecutor(model::LlamaModel& model, int num_gpu_blocks, int num_cpu_blocks, int block_size);

  std::string name() const override { return backend_.name(); }
  StepResult execute(const StepPlan& plan) override;
  const kernels::KvCache& gpu_cache() const { return gpu_; }
  std::size_t num_sampler_states() const { return samplers_.size(); }
  // Draw with Backend::sample instead of the host sampler (the default
  // where the backend samples on its device); on the CPU backend this runs
  // the GPU sampler's host twin.
  void set_sample_on_backend(bool on) { sample_on_backend_ = on; }
  // The vocabulary constrained requests are masked over; without one, a
  // constrained request is a logic error (the engine sets it at start).
  void set_vocabulary(std::shared_ptr<const grammar::Vocabulary> vocabulary);
  // Compute the masks of constrained rows beside the forward pass (the
  // default) or after it on this thread; the tokens are the same.
  void set_overlap_masks(bool on) { overlap_masks_ = on; }
  // Steps whose masks were computed beside the forward pass.
  std::uint64_t num_overlapped_mask_steps() const { return mask_job_ ? mask_job_->num_started() : 0; }

 private:
  struct Sampler {
    std::shared_ptr<const model::SamplingParams> params;
    model::SamplerState state;
    std::vector<std::int32_t> context;
    std::uint64_t seed = 0;  // the backend sampler's stream (drawn at random when unseeded)
    std::optional<grammar::TokenMatcher> matcher;  // constrained requests only
    std::vector<std::uint32_t> mask;  // with a matcher: this step's allowed tokens
  };

  void allocate_pools(int num_gpu_blocks, int num_cpu_blocks, int block_size);
  void copy_blocks(const StepPlan& plan);
  void update_samplers(const StepPlan& plan);
  void add_sampler(const SamplerSetup& setup);
  void release_sampler(SeqId id);
  // model_executor_host_sampling.cpp: the draws from logits_ on the host.
  void sample_on_host(const StepPlan& plan, StepResult& out);
  // model_executor_sampling.cpp: the same draws through Backend::sample.
  void sample_on_backend(const StepPlan& plan, const kernels::Tensor& logits, StepResult& out);
  Sampler& sampler(SeqId id);
  // model_executor_constraints.cpp
  std::optional<grammar::TokenMatcher> start_matcher(const SamplerSetup& setup);
  // Before the forward pass: starts this step's masks (overlapped) or
  // notes which to compute (serial). After it: they are ready.
  void start_masks(const StepPlan& plan);
  void finish_masks();
  // A step that fails before finish_masks(): waits for the mask job, which
  // reads the samplers, and drops what it threw.
  void abandon_masks() noexcept;
  void fill_masks();
  // The sampler's token mask for this step, or nothing when unconstrained.
  static std::span<const std::uint32_t> mask_of(const Sampler& s);
  void advance_matcher(Sampler& s, std::int32_t token);

  std::unique_ptr<kernels::Backend> owned_backend_;  // declared first: outlives the model and pools
  std::unique_ptr<model::LlamaModel> owned_model_;
  kernels::Backend& backend_;
  model::LlamaModel& model_;
  kernels::KvCache gpu_;
  kernels::KvCache cpu_;
  std::unordered_map<SeqId, Sampler> samplers_;
  std::vector<float> logits_;
  bool sample_on_backend_ = false;
  kernels::SampleBatch sample_batch_;
  kernels::SampleOutput sampled_;
  std::unique_ptr<grammar::TokenGrammarPool> grammars_;
  std::size_t num_constrained_ = 0;  // samplers with a matcher
  bool overlap_masks_ = true;
  std::vector<Sampler*> masked_;     // this step's constrained samplers (map nodes do not move)
  bool masks_running_ = false;       // mask_job_ started and not joined
  std::unique_ptr<BackgroundJob> mask_job_;  // made at the first constrained step; last: joins before the rest goes
};

}  // namespace pagedserve::engine
