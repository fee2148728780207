#include "engine/model_executor.hpp"

#include <random>
#include <stdexcept>

namespace pagedserve::engine {

ModelExecutor::ModelExecutor(std::unique_ptr<kernels::Backend> backend, std::unique_ptr<model::LlamaModel> model,
                             int num_gpu_blocks, int num_cpu_blocks, int block_size)
    : owned_backend_(std::move(backend)), owned_model_(std::move(model)), backend_(*owned_backend_), model_(*owned_model_) {
  allocate_pools(num_gpu_blocks, num_cpu_blocks, block_size);
}

ModelExecutor::ModelExecutor(model::LlamaModel& model, int num_gpu_blocks, int num_cpu_blocks, int block_size)
    : backend_(model.backend()), model_(model) {
  allocate_pools(num_gpu_blocks, num_cpu_blocks, block_size);
}

void ModelExecutor::allocate_pools(int num_gpu_blocks, int num_cpu_blocks, int block_size) {
  sample_on_backend_ = backend_.samples_on_device();
  const auto dtype = backend_.activation_dtype();
  gpu_ = backend_.allocate_kv_cache(model_.kv_spec(num_gpu_blocks, block_size, dtype));
  cpu_ = backend_.allocate_swap_space(model_.kv_spec(num_cpu_blocks, block_size, dtype));
}

void ModelExecutor::copy_blocks(const StepPlan& plan) {
  if (!plan.swap_out.empty()) backend_.swap_blocks(gpu_, cpu_, plan.swap_out);
  if (!plan.swap_in.empty()) backend_.swap_blocks(cpu_, gpu_, plan.swap_in);
  if (!plan.copy_on_write.empty()) backend_.copy_blocks(gpu_, plan.copy_on_write);
}

static std::uint64_t backend_seed(const model::SamplingParams& p) {
  if (p.seed) return *p.seed;
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) | rd();
}

void ModelExecutor::update_samplers(const StepPlan& plan) {
  for (SeqId id : plan.released_samplers) release_sampler(id);
  for (const auto& s : plan.new_samplers) add_sampler(s);
}

void ModelExecutor::add_sampler(const SamplerSetup& setup) {
  model::SamplingParams p = *setup.params;
  p.seed = setup.seed;
  Sampler s{setup.params, model::SamplerState(p), setup.context, backend_seed(p), start_matcher(setup), {}};
  if (s.matcher) s.mask.resize(grammar::mask_words(s.matcher->vocab_size()));  // as wide as a logits row
  release_sampler(setup.seq_id);  // set up again: the old one goes
  if (s.matcher) ++num_constrained_;
  samplers_.emplace(setup.seq_id, std::move(s));
}

void ModelExecutor::release_sampler(SeqId id) {
  auto it = samplers_.find(id);
  if (it == samplers_.end()) return;
  if (it->second.matcher) --num_constrained_;
  samplers_.erase(it);
}

ModelExecutor::Sampler& ModelExecutor::sampler(SeqId id) {
  auto it = samplers_.find(id);
  if (it == samplers_.end()) throw std::logic_error("no sampler state for sequence " + std::to_string(id));
  return it->second;
}

StepResult ModelExecutor::execute(const StepPlan& plan) {
  copy_blocks(plan);
  StepResult result;
  result.step_id = plan.step_id;
  if (!model_.makes_logits()) {  // a pipeline stage before the last: no samplers
    model_.forward_logits(plan.batch, gpu_);
    return result;
  }
  update_samplers(plan);
  if (plan.batch.num_tokens() == 0) return result;
  start_masks(plan);
  try {
    if (sample_on_backend_) {
      const kernels::Tensor logits = model_.forward_logits(plan.batch, gpu_);
      finish_masks();
      sample_on_backend(plan, logits, result);
      return result;
    }
    model_.forward(plan.batch, gpu_, logits_);
    finish_masks();
  } catch (...) {
    abandon_masks();
    throw;
  }
  sample_on_host(plan, result);
  return result;
}

}  // namespace pagedserve::engine
