#include "actors/engine.hpp"

#include <algorithm>
#include <stdexcept>

#include "actors/engine_start.hpp"
#include "engine/model_executor.hpp"
#include "model/loader.hpp"

namespace pagedserve::actors {

namespace {

constexpr std::size_t kGiB = std::size_t{1} << 30;

int clamp_blocks(std::size_t n) { return static_cast<int>(std::min<std::size_t>(n, 1u << 30)); }

int resolve_max_model_len(const EngineConfig& config, const model::ModelConfig& model) {
  if (config.max_model_len < 0) throw std::invalid_argument("max_model_len must not be negative");
  if (config.max_model_len > model.max_seq_len)
    throw std::invalid_argument("max_model_len (" + std::to_string(config.max_model_len) + ") exceeds the model's " +
                                std::to_string(model.max_seq_len) + " positions");
  return config.max_model_len ? config.max_model_len : model.max_seq_len;
}

}  // namespace

KvPoolSizes size_kv_pools(const EngineConfig& config, const kernels::Backend& backend, std::size_t bytes_per_block,
                          int max_model_len) {
  if (config.swap_space_gib < 0) throw std::invalid_argument("swap_space must not be negative");
  if (!(config.gpu_memory_utilization > 0 && config.gpu_memory_utilization <= 1))
    throw std::invalid_argument("gpu_memory_utilization must be in (0, 1]");
  KvPoolSizes sizes;
  const auto info = backend.memory_info();
  const bool on_cpu = backend.name() == "cpu";
  if (config.num_gpu_blocks > 0) {
    sizes.num_gpu_blocks = config.num_gpu_blocks;
  } else if (on_cpu) {
    const std::size_t wanted = static_cast<std::size_t>(config.max_num_seqs) *
                               ((static_cast<std::size_t>(max_model_len) + config.block_size - 1) / config.block_size);
    const std::size_t cap = std::min<std::size_t>(4 * kGiB, info.total_bytes / 4) / bytes_per_block;
    sizes.num_gpu_blocks = clamp_blocks(std::max<std::size_t>(1, std::min(wanted, cap)));
  } else {
    // The weights are loaded already: what is in use now stays in use.
    const double budget = config.gpu_memory_utilization * static_cast<double>(info.total_bytes) -
                          static_cast<double>(info.total_bytes - info.free_bytes);
    if (budget < static_cast<double>(bytes_per_block))
      throw std::runtime_error("no device memory left for the KV cache at gpu_memory_utilization " +
                               std::to_string(config.gpu_memory_utilization));
    sizes.num_gpu_blocks = clamp_blocks(static_cast<std::size_t>(budget * 0.95) / bytes_per_block);  // 5% for activations
  }
  std::size_t cpu = static_cast<std::size_t>(config.swap_space_gib * static_cast<double>(kGiB)) / bytes_per_block;
  // On the CPU device the swap pool is host memory like the KV pool itself:
  // more than twice the pool would only hold memory nobody swaps into.
  if (on_cpu) cpu = std::min<std::size_t>(cpu, 2 * static_cast<std::size_t>(sizes.num_gpu_blocks));
  sizes.num_cpu_blocks = clamp_blocks(cpu);
  return sizes;
}

std::unique_ptr<Engine> Engine::start(const EngineConfig& config) {
  if (config.block_size < 1 || config.block_size > 1024) throw std::invalid_argument("block_size must be in [1, 1024]");
  model::LoadOptions options;
  options.tokenizer_path = config.tokenizer;
  auto loaded = model::load_model(config.model, options);
  if (!loaded.tokenizer) throw std::invalid_argument("the model " + config.model + " has no tokenizer: set a tokenizer path");
  auto backend = kernels::make_backend(config.device);
  auto llama = std::make_unique<model::LlamaModel>(loaded.config, loaded.weights, *backend);
  EngineParts parts;
  parts.model_config = loaded.config;
  parts.tokenizer = std::move(loaded.tokenizer);
  parts.max_model_len = resolve_max_model_len(config, loaded.config);
  const auto bytes_per_block = llama->kv_spec(1, config.block_size, backend->activation_dtype()).bytes_per_block();
  const auto sizes = size_kv_pools(config, *backend, bytes_per_block, parts.max_model_len);
  parts.num_gpu_blocks = sizes.num_gpu_blocks;
  parts.num_cpu_blocks = sizes.num_cpu_blocks;
  parts.executor = std::make_shared<engine::ModelExecutor>(std::move(backend), std::move(llama), sizes.num_gpu_blocks,
                                                           sizes.num_cpu_blocks, config.block_size);
  return start_engine(config, std::move(parts));
}

}  // namespace pagedserve::actors
