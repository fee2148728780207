// The executor of a model split over tensor-parallel ranks and pipeline
// stages: every rank a thread of this process (engine/parallel_executor.hpp),
// or one rank in a worker process (actors/worker.cpp) joined to the others
// over Gloo. Both build each rank here.

#include <stdexcept>

#include "actors/engine_start.hpp"
#include "engine/model_executor.hpp"
#include "engine/parallel_executor.hpp"
#include "kernels/collective.hpp"
#include "kernels/stage_link.hpp"
#include "kernels/timed_links.hpp"
#include "model/pipeline_parallel.hpp"
#include "model/tensor_parallel.hpp"

namespace pagedserve::actors {

namespace {

std::string kind_of(int tp, int pp) {
  if (pp == 1) return "tensor parallel " + std::to_string(tp);
  if (tp == 1) return "pipeline parallel " + std::to_string(pp);
  return "tensor parallel " + std::to_string(tp) + " x pipeline parallel " + std::to_string(pp);
}

}  // namespace

void refuse_what_cannot_split(const EngineConfig& config, const model::ModelConfig& model) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  if (config.device != "cpu")
    throw std::invalid_argument("--tensor-parallel-size " + std::to_string(tp) + " --pipeline-parallel-size " +
                                std::to_string(pp) + " runs on --device cpu only in this build");
  if (auto reason = model::tensor_parallel_refusal(model, tp); !reason.empty()) throw std::invalid_argument(reason);
  if (auto reason = model::pipeline_parallel_refusal(model, pp); !reason.empty()) throw std::invalid_argument(reason);
}

BuiltRank build_rank(const EngineConfig& config, const model::ModelConfig& model, const model::ModelWeights& weights,
                     int rank, const RankLinks& links, const PoolSizer& size_pools,
                     std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  const int stage = rank / tp, index = rank % tp;
  if (rank < 0 || stage >= pp) throw std::invalid_argument("rank " + std::to_string(rank) + " is not in the split");
  if ((tp > 1) != (links.tensor_parallel != nullptr) || (pp > 1 && stage > 0) != (links.from != nullptr) ||
      (pp > 1 && stage < pp - 1) != (links.to != nullptr))
    throw std::logic_error("rank " + std::to_string(rank) + " lacks a link to its group, or has one it cannot use");
  const auto shard = model::shard_config(model, index, tp);
  auto backend = kernels::make_backend(config.device, backend_options(config, weights.token_embedding.dtype));
  auto llama = std::make_unique<model::LlamaModel>(shard, model::shard_weights(model, weights, index, tp), *backend,
                                                   model::stage_layers(model, stage, pp));
  if (links.tensor_parallel) llama->join_tensor_parallel_group(*links.tensor_parallel);
  if (pp > 1) llama->join_pipeline(links.from, links.to, model::micro_batches_for(pp));
  BuiltRank built;
  built.sizes = size_pools(*llama);
  auto executor = std::make_unique<engine::ModelExecutor>(std::move(backend), std::move(llama), built.sizes.num_gpu_blocks,
                                                          built.sizes.num_cpu_blocks, config.block_size);
  executor->set_vocabulary(std::move(vocabulary));  // the last stage's ranks draw the same tokens, constrained alike
  built.executor = std::move(executor);
  return built;
}

BuiltExecutor build_parallel_executor(const EngineConfig& config, const model::ModelConfig& model,
                                      const model::ModelWeights& weights, const PoolSizer& size_pools,
                                      std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  refuse_what_cannot_split(config, model);
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  std::vector<std::shared_ptr<kernels::CollectiveGroup>> groups;  // one per stage
  auto links = std::make_shared<kernels::PipelineLinks>(pp, tp);
  auto waits = std::make_shared<kernels::SplitWaits>(tp * pp);
  std::vector<std::unique_ptr<engine::StepExecutor>> ranks;
  BuiltExecutor built;
  for (int s = 0; s < pp; ++s) {
    groups.push_back(kernels::make_in_process_group(tp));
    for (int r = 0; r < tp; ++r) {
      const int rank_id = s * tp + r;
      RankLinks joined{waits->timed(rank_id, tp > 1 ? &groups[s]->member(r) : nullptr),
                       waits->timed_receive(rank_id, pp > 1 ? links->from(s, r) : nullptr),
                       pp > 1 ? links->to(s, r) : nullptr};
      // Stage 0 has the most layers: every rank takes the first one's sizes.
      const bool first = s == 0 && r == 0;
      auto rank = build_rank(config, model, weights, rank_id, joined,
                             first ? size_pools : PoolSizer([&](model::LlamaModel&) { return built.sizes; }), vocabulary);
      if (first) built.sizes = rank.sizes;
      ranks.push_back(std::move(rank.executor));
    }
  }
  auto abort_all = [groups, links, waits] {  // holds what the ranks' models refer to as long as the executor lives
    for (auto& g : groups) g->abort();
    links->abort();
  };
  built.executor = std::make_shared<engine::ParallelExecutor>(std::move(ranks), (pp - 1) * tp, abort_all, kind_of(tp, pp));
  built.waits = waits;
  return built;
}

}  // namespace pagedserve::actors
