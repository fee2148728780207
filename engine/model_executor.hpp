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
// Invariant: every sampler id a RowRequest names was set up by this or an
// earlier plan and not released since.

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

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

 private:
  struct Sampler {
    std::shared_ptr<const model::SamplingParams> params;
    model::SamplerState state;
    std::vector<std::int32_t> context;
    std::uint64_t seed = 0;  // the backend sampler's stream (drawn at random when unseeded)
    std::optional<grammar::TokenMatcher> matcher;  // constrained requests only
  };

  void allocate_pools(int num_gpu_blocks, int num_cpu_blocks, int block_size);
  void copy_blocks(const StepPlan& plan);
  void update_samplers(const StepPlan& plan);
  void sample_row(const RowRequest& row, std::span<const float> logits, StepResult& out);
  // model_executor_sampling.cpp: the same draws through Backend::sample.
  void sample_on_backend(const StepPlan& plan, const kernels::Tensor& logits, StepResult& out);
  Sampler& sampler(SeqId id);
  // model_executor_constraints.cpp
  std::optional<grammar::TokenMatcher> start_matcher(const SamplerSetup& setup);
  // The sampler's token mask for this step, or nothing when unconstrained.
  std::span<const std::uint32_t> mask_of(const Sampler& s);
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
  std::vector<std::uint32_t> mask_;
};

}  // namespace pagedserve::engine
