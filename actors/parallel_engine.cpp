// The executor of a model split over tensor-parallel ranks and pipeline
// stages, all threads of this process (engine/parallel_executor.hpp).

#include <stdexcept>

#include "actors/engine_start.hpp"
#include "engine/model_executor.hpp"
#include "engine/parallel_executor.hpp"
#include "kernels/collective.hpp"
#include "kernels/stage_link.hpp"
#include "model/pipeline_parallel.hpp"
#include "model/tensor_parallel.hpp"

namespace pagedserve::actors {

namespace {

void refuse_what_cannot_split(const EngineConfig& config, const model::ModelConfig& model) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  if (config.device != "cpu")
    throw std::invalid_argument("--tensor-parallel-size " + std::to_string(tp) + " --pipeline-parallel-size " +
                                std::to_string(pp) + " runs on --device cpu only in this build");
  if (auto reason = model::tensor_parallel_refusal(model, tp); !reason.empty()) throw std::invalid_argument(reason);
  if (auto reason = model::pipeline_parallel_refusal(model, pp); !reason.empty()) throw std::invalid_argument(reason);
}

std::string kind_of(int tp, int pp) {
  if (pp == 1) return "tensor parallel " + std::to_string(tp);
  if (tp == 1) return "pipeline parallel " + std::to_string(pp);
  return "tensor parallel " + std::to_string(tp) + " x pipeline parallel " + std::to_string(pp);
}

}  // namespace

BuiltExecutor build_parallel_executor(const EngineConfig& config, const model::ModelConfig& model,
                                      const model::ModelWeights& weights, const PoolSizer& size_pools,
                                      std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  refuse_what_cannot_split(config, model);
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  std::vector<std::shared_ptr<kernels::CollectiveGroup>> groups;  // one per stage
  auto links = std::make_shared<kernels::PipelineLinks>(pp, tp);
  std::vector<std::unique_ptr<engine::StepExecutor>> ranks;
  BuiltExecutor built;
  for (int s = 0; s < pp; ++s) {
    groups.push_back(kernels::make_in_process_group(tp));
    const auto layers = model::stage_layers(model, s, pp);
    for (int r = 0; r < tp; ++r) {
      const auto shard = model::shard_config(model, r, tp);
      auto backend = kernels::make_backend(config.device, backend_options(config, weights.token_embedding.dtype));
      auto llama = std::make_unique<model::LlamaModel>(shard, model::shard_weights(model, weights, r, tp), *backend, layers);
      if (tp > 1) llama->join_tensor_parallel_group(groups[s]->member(r));
      if (pp > 1) llama->join_pipeline(links->from(s, r), links->to(s, r), model::micro_batches_for(pp));
      if (s == 0 && r == 0) built.sizes = size_pools(*llama);  // stage 0 has the most layers
      auto rank = std::make_unique<engine::ModelExecutor>(std::move(backend), std::move(llama), built.sizes.num_gpu_blocks,
                                                          built.sizes.num_cpu_blocks, config.block_size);
      rank->set_vocabulary(vocabulary);  // the last stage's ranks draw the same tokens, constrained alike
      ranks.push_back(std::move(rank));
    }
  }
  auto abort_all = [groups, links] {
    for (auto& g : groups) g->abort();
    links->abort();
  };
  built.executor = std::make_shared<engine::ParallelExecutor>(std::move(ranks), (pp - 1) * tp, abort_all, kind_of(tp, pp));
  return built;
}

}  // namespace pagedserve::actors
