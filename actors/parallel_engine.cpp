// The executor of a model split over tensor-parallel ranks and pipeline
// stages: every rank a thread of this process (engine/parallel_executor.hpp),
// on the CPU or one GPU a rank, or one rank in a worker process
// (actors/worker.cpp) joined to the others over Gloo. Both build each rank
// here.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "actors/engine_start.hpp"
#include "actors/rendezvous.hpp"
#include "engine/model_executor.hpp"
#include "engine/parallel_executor.hpp"
#include "kernels/collective.hpp"
#include "kernels/nccl.hpp"
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

std::string split_flags(int tp, int pp) {
  std::string s;
  if (tp > 1) s = "--tensor-parallel-size " + std::to_string(tp);
  if (pp > 1) s += (s.empty() ? "" : " ") + std::string("--pipeline-parallel-size ") + std::to_string(pp);
  return s;
}

bool on_cuda(const EngineConfig& config) { return config.device.rfind("cuda", 0) == 0; }

// How long a rank waits for its group's NCCL id: its rank 0 makes it at
// once, so only a rank that failed first keeps it away.
constexpr std::chrono::milliseconds kNcclIdTimeout{60000};

// A GPU split needs a GPU a rank and, with tensor parallelism, NCCL.
void refuse_what_gpus_cannot_split(const EngineConfig& config) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  if (kernels::available_backends().find("cuda") == std::string::npos)
    throw std::invalid_argument("device '" + config.device + "': " + kernels::kNoCudaBackend);
  const int first = kernels::cuda_device_index(config.device);
  // Loads the CUDA module, and with it the CUDA runtime NCCL may sit beside.
  const auto devices = kernels::find_cuda_devices();
  if (tp > 1) {
    try {
      kernels::load_nccl(config.nccl_library);
    } catch (const std::exception& e) {
      throw std::invalid_argument("--device " + config.device + " with --tensor-parallel-size " + std::to_string(tp) +
                                  " needs NCCL (" + kernels::kNcclLibraryName + "): " + e.what());
    }
  }
  const int ranks = tp * pp, last = first + ranks - 1;
  if (devices.count <= last)
    throw std::invalid_argument(
        "--device " + config.device + " with " + split_flags(tp, pp) + " needs " + std::to_string(ranks) +
        " GPUs, one a rank (cuda:" + std::to_string(first) + " to cuda:" + std::to_string(last) + "): this host has " +
        (devices.count == 0 ? "none" + (devices.error.empty() ? "" : " (" + devices.error + ")")
                            : std::to_string(devices.count)));
}

// The GPU ranks' pool sizes: each rank brings what its own profiling pass
// allows, and every rank leaves with the smallest (block ids every rank
// has). A rank that fails releases the others.
class PoolAgreement {
 public:
  explicit PoolAgreement(int ranks) : expected_(ranks) {}

  KvPoolSizes agree(KvPoolSizes mine) {
    std::unique_lock lock(mutex_);
    if (arrived_ == 0) {
      agreed_ = mine;
    } else {
      agreed_.num_gpu_blocks = std::min(agreed_.num_gpu_blocks, mine.num_gpu_blocks);
      agreed_.num_cpu_blocks = std::min(agreed_.num_cpu_blocks, mine.num_cpu_blocks);
    }
    ++arrived_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return arrived_ == expected_ || aborted_; });
    if (arrived_ != expected_) throw std::runtime_error("the split model's setup was aborted: a rank failed");
    return agreed_;
  }

  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  const int expected_;
  int arrived_ = 0;
  bool aborted_ = false;
  KvPoolSizes agreed_;
};

// Ranks as threads, one GPU each, joined by NCCL: the backends on
// cuda:N+r, each stage's group an NCCL communicator.
BuiltExecutor build_gpu_parallel_executor(const EngineConfig& config, const model::ModelConfig& model,
                                          const model::ModelWeights& weights, const PoolSizer& size_pools,
                                          std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  const int first = kernels::cuda_device_index(config.device);
  auto options = backend_options(config, weights.token_embedding.dtype);
  // Split steps run kernel by kernel: no NCCL call or stage hand-off is
  // recorded in a CUDA graph (not yet tried on a GPU).
  options.enforce_eager = true;
  const auto nccl = config.tensor_parallel_size > 1 ? kernels::load_nccl(config.nccl_library) : nullptr;
  ThreadedSplit split;
  split.backend = [first, options](int rank) { return kernels::make_backend("cuda:" + std::to_string(first + rank), options); };
  split.new_group_id = [nccl] { return nccl->unique_id(); };
  split.join_group = [nccl](kernels::Backend& backend, const kernels::NcclUniqueId& id, int index, int tp) {
    return kernels::make_nccl_collective(nccl, backend, id, index, tp);
  };
  split.kind = config.tensor_parallel_size > 1 ? ", NCCL on GPUs" : " on GPUs";
  return build_threaded_split(config, model, weights, size_pools, std::move(vocabulary), split);
}

}  // namespace

void refuse_what_cannot_split(const EngineConfig& config, const model::ModelConfig& model, SplitOver over) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  if (config.device != "cpu" && (over == SplitOver::workers || !on_cuda(config)))
    throw std::invalid_argument("--tensor-parallel-size " + std::to_string(tp) + " --pipeline-parallel-size " +
                                std::to_string(pp) +
                                (over == SplitOver::workers
                                     ? " over worker processes runs on --device cpu only in this build (GPUs: ranks "
                                       "as threads of one server, --device cuda without --executor)"
                                     : " runs on --device cpu or cuda in this build, not '" + config.device + "'"));
  if (auto reason = model::tensor_parallel_refusal(model, tp); !reason.empty()) throw std::invalid_argument(reason);
  if (auto reason = model::pipeline_parallel_refusal(model, pp); !reason.empty()) throw std::invalid_argument(reason);
  if (on_cuda(config)) refuse_what_gpus_cannot_split(config);
}

// Every rank is set up on a thread of its own, all at once:
// ncclCommInitRank returns only when every rank of the group has called
// it, and the ranks' profiling passes (pool sizing) meet in the
// collectives and pipeline links as a step does.
BuiltExecutor build_threaded_split(const EngineConfig& config, const model::ModelConfig& model,
                                   const model::ModelWeights& weights, const PoolSizer& size_pools,
                                   std::shared_ptr<const grammar::Vocabulary> vocabulary, const ThreadedSplit& split) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size, world = tp * pp;

  // The backends first, in this thread: a device that fails fails here,
  // before any rank waits for another.
  std::vector<std::unique_ptr<kernels::Backend>> backends;
  for (int r = 0; r < world; ++r) backends.push_back(split.backend(r));

  // Each group's id goes from its rank 0 to the others in a message,
  // through a rendezvous actor living for the setup only.
  std::optional<EngineRuntime> runtime;
  rendezvous_actor rendezvous;
  if (tp > 1) {
    runtime = make_runtime(false);
    rendezvous = spawn_rendezvous(*runtime->system);
  }

  auto links = std::make_shared<kernels::PipelineLinks>(pp, tp);
  auto waits = std::make_shared<kernels::SplitWaits>(world);
  auto collectives = std::make_shared<std::vector<std::unique_ptr<kernels::NcclCollective>>>(world);
  PoolAgreement agreement(world);
  std::vector<BuiltRank> built(world);
  std::mutex mutex;  // guards collectives, waits and the failure below
  std::exception_ptr first_error;
  bool aborted = false;

  auto abort_setup = [&] {
    agreement.abort();
    links->abort();
    std::lock_guard lock(mutex);
    for (auto& c : *collectives)
      if (c) c->abort();
  };

  auto set_up_rank = [&](int r) {
    try {
      const int stage = r / tp, index = r % tp;
      kernels::Collective* tensor_parallel = nullptr;
      if (tp > 1) {
        const std::string key = "nccl.tp" + std::to_string(stage);
        kernels::NcclUniqueId id;
        if (index == 0) {
          id = split.new_group_id();
          publish_nccl_id(*runtime->system, rendezvous, key, id, kNcclIdTimeout);
        } else {
          id = fetch_nccl_id(*runtime->system, rendezvous, key, kNcclIdTimeout);
        }
        auto group = split.join_group(*backends[r], id, index, tp);
        std::lock_guard lock(mutex);
        if (aborted) group->abort();
        tensor_parallel = waits->timed(r, group.get());
        (*collectives)[r] = std::move(group);
      }
      RankLinks joined;
      {
        std::lock_guard lock(mutex);
        joined = RankLinks{tensor_parallel, waits->timed_receive(r, pp > 1 ? links->from(stage, index) : nullptr),
                           pp > 1 ? links->to(stage, index) : nullptr};
      }
      auto sizer = [&](model::LlamaModel& llama) { return agreement.agree(size_pools(llama)); };
      built[r] = build_rank(config, model, weights, r, joined, sizer, vocabulary, std::move(backends[r]));
    } catch (...) {
      {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
        aborted = true;
      }
      abort_setup();  // the others may wait for this rank in a collective, a link or the agreement
    }
  };
  {
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r) threads.emplace_back(set_up_rank, r);
    for (auto& t : threads) t.join();
  }
  if (rendezvous) caf::anon_send_exit(rendezvous, caf::exit_reason::user_shutdown);
  if (first_error) std::rethrow_exception(first_error);

  std::vector<std::unique_ptr<engine::StepExecutor>> ranks;
  for (auto& b : built) ranks.push_back(std::move(b.executor));
  auto abort_all = [collectives, links, waits] {  // holds what the ranks' models refer to as long as the executor lives
    for (auto& c : *collectives)
      if (c) c->abort();
    links->abort();
  };
  BuiltExecutor out;
  out.sizes = built.front().sizes;
  out.executor =
      std::make_shared<engine::ParallelExecutor>(std::move(ranks), (pp - 1) * tp, abort_all, kind_of(tp, pp) + split.kind);
  out.waits = waits;
  return out;
}

BuiltRank build_rank(const EngineConfig& config, const model::ModelConfig& model, const model::ModelWeights& weights,
                     int rank, const RankLinks& links, const PoolSizer& size_pools,
                     std::shared_ptr<const grammar::Vocabulary> vocabulary, std::unique_ptr<kernels::Backend> backend) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  const int stage = rank / tp, index = rank % tp;
  if (rank < 0 || stage >= pp) throw std::invalid_argument("rank " + std::to_string(rank) + " is not in the split");
  if ((tp > 1) != (links.tensor_parallel != nullptr) || (pp > 1 && stage > 0) != (links.from != nullptr) ||
      (pp > 1 && stage < pp - 1) != (links.to != nullptr))
    throw std::logic_error("rank " + std::to_string(rank) + " lacks a link to its group, or has one it cannot use");
  const auto shard = model::shard_config(model, index, tp);
  if (!backend) backend = kernels::make_backend(config.device, backend_options(config, weights.token_embedding.dtype));
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
  refuse_what_cannot_split(config, model, SplitOver::threads);
  if (on_cuda(config)) return build_gpu_parallel_executor(config, model, weights, size_pools, std::move(vocabulary));
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
