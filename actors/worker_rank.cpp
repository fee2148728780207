#include "actors/worker_rank.hpp"

#include <gloo/rendezvous/prefix_store.h>

#include "actors/rendezvous.hpp"
#include "kernels/gloo/gloo_collective.hpp"

namespace pagedserve::actors {

namespace {

// The rank's Gloo side: what its model's collectives and links point to.
struct GlooLinks {
  std::unique_ptr<kernels::GlooCollective> tensor_parallel;
  std::unique_ptr<kernels::GlooStageLink> from, to;

  void abort() {
    if (tensor_parallel) tensor_parallel->abort();
    if (from) from->abort();
    if (to) to->abort();
  }
};

// The rank's executor, which owns its Gloo links (released after it).
class WorkerRankExecutor final : public engine::StepExecutor {
 public:
  WorkerRankExecutor(std::unique_ptr<GlooLinks> links, std::unique_ptr<engine::StepExecutor> rank, std::string place)
      : links_(std::move(links)), rank_(std::move(rank)), place_(std::move(place)) {}
  std::string name() const override { return rank_->name() + " (" + place_ + ", Gloo)"; }
  engine::StepResult execute(const engine::StepPlan& plan) override {
    try {
      return rank_->execute(plan);
    } catch (...) {
      // The others may wait for this rank in a collective or a link.
      links_->abort();
      throw;
    }
  }

 private:
  std::unique_ptr<GlooLinks> links_;
  std::unique_ptr<engine::StepExecutor> rank_;  // after links_: destroyed before them
  std::string place_;
};

}  // namespace

BuiltExecutor build_worker_rank(caf::actor_system& system, const EngineConfig& config, const model::LoadedModel& loaded,
                                int rank, const rendezvous_actor& rendezvous, const std::string& gloo_host,
                                int max_model_len, std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  refuse_what_cannot_split(config, loaded.config, SplitOver::workers);
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  if (rank < 0 || rank >= tp * pp) throw std::invalid_argument("rank " + std::to_string(rank) + " is not in the split");
  if (gloo_host == "0.0.0.0" || gloo_host == "::" || gloo_host.empty())
    throw std::invalid_argument("a worker of a split model tells its peers its --listen address: '" + gloo_host +
                                "' is none they can reach (listen on the worker's own address)");
  const int stage = rank / tp, index = rank % tp;
  auto device = kernels::make_gloo_device(gloo_host);
  RendezvousStore store(system, rendezvous, kernels::kGlooTimeout);
  // Each mesh under its own keys. The order (the stage's mesh, then the
  // link from the stage before, then the one to the stage after) lets no
  // two ranks wait for each other.
  auto mesh = [&](const std::string& prefix, int mesh_rank, int size) {
    gloo::rendezvous::PrefixStore keys(prefix, store);
    return kernels::connect_gloo_mesh(keys, device, mesh_rank, size);
  };
  auto links = std::make_unique<GlooLinks>();
  if (tp > 1) links->tensor_parallel = std::make_unique<kernels::GlooCollective>(mesh("tp" + std::to_string(stage), index, tp));
  const auto link = [&](int from_stage) { return "pp" + std::to_string(from_stage) + "." + std::to_string(index); };
  if (pp > 1 && stage > 0) links->from = std::make_unique<kernels::GlooStageLink>(mesh(link(stage - 1), 1, 2));
  if (pp > 1 && stage < pp - 1) links->to = std::make_unique<kernels::GlooStageLink>(mesh(link(stage), 0, 2));
  RankLinks joined{links->tensor_parallel.get(), links->from.get(), links->to.get()};
  auto size_pools = [&](model::LlamaModel& llama) { return size_kv_pools(config, llama, max_model_len); };
  auto built = build_rank(config, loaded.config, loaded.weights, rank, joined, size_pools, std::move(vocabulary));
  const std::string place = "rank " + std::to_string(rank) + " of tensor parallel " + std::to_string(tp) +
                            " x pipeline parallel " + std::to_string(pp);
  BuiltExecutor out;
  out.sizes = built.sizes;
  out.executor = std::make_shared<WorkerRankExecutor>(std::move(links), std::move(built.executor), place);
  return out;
}

}  // namespace pagedserve::actors
