#include "actors/engine.hpp"

#include <algorithm>
#include <stdexcept>

#include "actors/engine_start.hpp"
#include "actors/worker_link.hpp"
#include "engine/kv_planner.hpp"
#include "engine/model_executor.hpp"
#include "model/loader.hpp"
#include "model/token_vocabulary.hpp"

namespace pagedserve::actors {

namespace {

constexpr std::size_t kGiB = std::size_t{1} << 30;

int clamp_blocks(std::size_t n) { return static_cast<int>(std::min<std::size_t>(n, 1u << 30)); }

}  // namespace

int resolve_max_model_len(const EngineConfig& config, const model::ModelConfig& model) {
  if (config.max_model_len < 0) throw std::invalid_argument("max_model_len must not be negative");
  if (config.max_model_len > model.max_seq_len)
    throw std::invalid_argument("max_model_len (" + std::to_string(config.max_model_len) + ") exceeds the model's " +
                                std::to_string(model.max_seq_len) + " positions");
  return config.max_model_len ? config.max_model_len : model.max_seq_len;
}

KvPoolSizes size_kv_pools(const EngineConfig& config, model::LlamaModel& model, int max_model_len) {
  if (config.swap_space_gib < 0) throw std::invalid_argument("swap_space must not be negative");
  if (!(config.gpu_memory_utilization > 0 && config.gpu_memory_utilization <= 1))
    throw std::invalid_argument("gpu_memory_utilization must be in (0, 1]");
  auto& backend = model.backend();
  const std::size_t bytes_per_block =
      model.kv_spec(1, config.block_size, backend.activation_dtype()).bytes_per_block();
  KvPoolSizes sizes;
  if (backend.name() != "cpu") {
    // A device: what a profiling pass leaves of gpu_memory_utilization.
    auto plan = engine::plan_kv_pools(model, {config.gpu_memory_utilization, config.swap_space_gib, config.block_size,
                                              config.max_num_batched_tokens, config.max_num_seqs});
    sizes.num_gpu_blocks = config.num_gpu_blocks > 0 ? config.num_gpu_blocks : plan.sizes.num_gpu_blocks;
    sizes.num_cpu_blocks = plan.sizes.num_cpu_blocks;
    return sizes;
  }
  if (config.num_gpu_blocks > 0) {
    sizes.num_gpu_blocks = config.num_gpu_blocks;
  } else {
    const std::size_t wanted = static_cast<std::size_t>(config.max_num_seqs) *
                               ((static_cast<std::size_t>(max_model_len) + config.block_size - 1) / config.block_size);
    const std::size_t cap = std::min<std::size_t>(4 * kGiB, backend.memory_info().total_bytes / 4) / bytes_per_block;
    sizes.num_gpu_blocks = clamp_blocks(std::max<std::size_t>(1, std::min(wanted, cap)));
  }
  // On the CPU the swap pool is host memory like the KV pool itself: more
  // than twice the pool would only hold memory nobody swaps into.
  const std::size_t swap = static_cast<std::size_t>(config.swap_space_gib * static_cast<double>(kGiB)) / bytes_per_block;
  sizes.num_cpu_blocks = clamp_blocks(std::min<std::size_t>(swap, 2 * static_cast<std::size_t>(sizes.num_gpu_blocks)));
  return sizes;
}

std::unique_ptr<Engine> Engine::start(const EngineConfig& config) {
  model::LoadOptions options;
  options.tokenizer_path = config.tokenizer;
  auto loaded = model::load_model(config.model, options);
  if (!config.executors.empty()) return start_remote_engine(config, std::move(loaded));
  return start_engine(config, std::move(loaded));
}

kernels::BackendOptions backend_options(const EngineConfig& config, kernels::DType checkpoint) {
  kernels::BackendOptions o;
  o.activation = kernels::resolve_activation_dtype(config.dtype, checkpoint, config.device);
  o.weights = kernels::resolve_weight_dtype(config.dtype, config.quantization, config.device);
  o.simple_attention = config.simple_attention;
  o.enforce_eager = config.enforce_eager;
  return o;
}

BuiltExecutor build_executor(const EngineConfig& config, const model::ModelConfig& model,
                             const model::ModelWeights& weights, int max_model_len,
                             std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  if (config.block_size < 1 || config.block_size > 1024) throw std::invalid_argument("block_size must be in [1, 1024]");
  auto backend = kernels::make_backend(config.device, backend_options(config, weights.token_embedding.dtype));
  auto llama = std::make_unique<model::LlamaModel>(model, weights, *backend);
  BuiltExecutor built;
  built.sizes = size_kv_pools(config, *llama, max_model_len);
  auto executor = std::make_shared<engine::ModelExecutor>(std::move(backend), std::move(llama), built.sizes.num_gpu_blocks,
                                                         built.sizes.num_cpu_blocks, config.block_size);
  executor->set_vocabulary(std::move(vocabulary));
  built.executor = std::move(executor);
  return built;
}


std::unique_ptr<Engine> start_engine(const EngineConfig& config, model::LoadedModel loaded) {
  if (config.block_size < 1 || config.block_size > 1024) throw std::invalid_argument("block_size must be in [1, 1024]");
  if (!loaded.tokenizer) throw std::invalid_argument("the model " + config.model + " has no tokenizer: set a tokenizer path");
  EngineParts parts;
  parts.model_config = loaded.config;
  parts.max_model_len = resolve_max_model_len(config, loaded.config);
  const auto vocabulary = model::grammar_vocabulary(*loaded.tokenizer, loaded.config.vocab_size, loaded.config.eos_ids);
  auto size_pools = [&](model::LlamaModel& llama) { return size_kv_pools(config, llama, parts.max_model_len); };
  auto built = config.tensor_parallel_size > 1 || config.pipeline_parallel_size > 1
                   ? build_parallel_executor(config, loaded.config, loaded.weights, size_pools, vocabulary)
                   : build_executor(config, loaded.config, loaded.weights, parts.max_model_len, vocabulary);
  parts.num_gpu_blocks = built.sizes.num_gpu_blocks;
  parts.num_cpu_blocks = built.sizes.num_cpu_blocks;
  parts.executor = std::move(built.executor);
  parts.tokenizer = std::move(loaded.tokenizer);
  return start_engine(config, std::move(parts));
}

}  // namespace pagedserve::actors
