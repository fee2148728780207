#pragma once
// Starting the actor runtime around parts built elsewhere. Engine::start
// loads the model and builds a ModelExecutor; the overhead benchmark hands
// in a NullExecutor to time the engine alone.

#include <functional>
#include <memory>

#include "actors/engine.hpp"
#include "actors/protocol.hpp"
#include "engine/executor.hpp"
#include "kernels/collective.hpp"
#include "kernels/nccl.hpp"
#include "kernels/stage_link.hpp"
#include "kernels/timed_links.hpp"
#include "model/llama.hpp"
#include "model/loader.hpp"
#include "model/token_vocabulary.hpp"

namespace pagedserve::actors {

struct EngineParts {
  model::ModelConfig model_config;
  std::unique_ptr<model::Tokenizer> tokenizer;  // required
  std::shared_ptr<engine::StepExecutor> executor;
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
  int max_model_len = 0;
};

// Spawns the actors. Throws std::invalid_argument for a bad configuration.
std::unique_ptr<Engine> start_engine(const EngineConfig& config, EngineParts parts);

// The actor system an engine runs in, and the executor when it lives in
// another process (a worker's, reached through the system's network layer).
struct EngineRuntime {
  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  executor_actor remote_executor;  // empty: spawn one around EngineParts::executor
};
// A system tuned for the step's message chain; `networked` loads libcaf_io.
// One scheduler thread runs the chain fastest; a worker process takes two,
// since its setup of a split model's rank blocks one while the other
// delivers the rendezvous's answers (CAF's network layer deserializes
// incoming messages on scheduler threads).
EngineRuntime make_runtime(bool networked, int scheduler_threads = 1);
// As above, in `runtime`. EngineParts::executor may be empty when the
// runtime has a remote executor.
std::unique_ptr<Engine> start_engine(const EngineConfig& config, EngineParts parts, EngineRuntime runtime);

// Engine::start after its first step: `loaded` (with a tokenizer) is the
// model config.model names, already loaded (a caller that tokenizes first
// loads it once).
std::unique_ptr<Engine> start_engine(const EngineConfig& config, model::LoadedModel loaded);

// Failure injection, for the supervision tests: the actor throws `why` at
// its next piece of step work (the router and the block manager when next
// asked, the executor at its next step, the scheduler when it next
// processes a step's result). `engine` must come from start_engine().
enum class EngineActor { router, scheduler, block_manager, executor };
void inject_failure(Engine& engine, EngineActor which, const std::string& why);

// The KV pool sizes Engine::start uses. CPU: enough for max_num_seqs
// sequences of max_model_len, at most a quarter of the host memory and
// 4 GiB (or num_gpu_blocks), and a swap pool of swap_space GiB capped at
// twice that. A device: gpu_memory_utilization less the weights and the
// activations a profiling pass measures (engine/kv_planner.hpp).
struct KvPoolSizes {
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
};
KvPoolSizes size_kv_pools(const EngineConfig& config, model::LlamaModel& model, int max_model_len);

// The longest sequence `config` allows for `model` (its own maximum for 0);
// throws std::invalid_argument beyond it.
int resolve_max_model_len(const EngineConfig& config, const model::ModelConfig& model);

// A ModelExecutor for `model` on config.device, its KV pools sized for
// `max_model_len`: what a local engine and a worker run.
struct BuiltExecutor {
  std::shared_ptr<engine::StepExecutor> executor;
  KvPoolSizes sizes;
  // A model split over threads: each rank's time in collectives and
  // waiting for the stage before (null otherwise).
  std::shared_ptr<const kernels::SplitWaits> waits;
};
// `vocabulary` lets it draw constrained requests (grammar/).
BuiltExecutor build_executor(const EngineConfig& config, const model::ModelConfig& model,
                             const model::ModelWeights& weights, int max_model_len,
                             std::shared_ptr<const grammar::Vocabulary> vocabulary);

// The model split over config.tensor_parallel_size ranks in each of
// config.pipeline_parallel_size stages, every rank a thread of this
// process with its own backend (engine/parallel_executor.hpp). Refuses by
// name what refuse_what_cannot_split refuses. On the CPU `size_pools`
// sizes the first rank's pools and every rank takes them (the first stage
// has the most layers). On GPUs (--device cuda: rank r on cuda:N+r) every
// rank sizes its own at once (their profiling passes meet in the
// collectives) and all take the smallest; the ranks of a stage sum over
// NCCL, whose unique id rank 0 makes and hands to the others through a
// rendezvous actor (a CAF message); stages hand hidden states on through
// host memory, as on the CPU; every step runs eagerly (no CUDA graphs).
using PoolSizer = std::function<KvPoolSizes(model::LlamaModel&)>;
BuiltExecutor build_parallel_executor(const EngineConfig& config, const model::ModelConfig& model,
                                      const model::ModelWeights& weights, const PoolSizer& size_pools,
                                      std::shared_ptr<const grammar::Vocabulary> vocabulary);

// The engine of build_parallel_executor on GPUs, with its parts named:
// every rank set up on a thread of its own, all at once (a group's members
// must join it together), its pools sized by its own pass and all ranks
// given the smallest. `backend` makes rank r's backend (in the caller's
// thread, first); for each stage's tensor-parallel group (T > 1), the
// stage's rank 0 makes an id with `new_group_id`, which reaches the
// others in a message through a rendezvous actor, and every rank joins
// with `join_group` (NCCL: kernels::make_nccl_collective; the tests put
// in-process groups there). A rank that fails aborts the groups, the
// links and the agreement, and the first error is thrown.
struct ThreadedSplit {
  std::function<std::unique_ptr<kernels::Backend>(int rank)> backend;
  std::function<kernels::NcclUniqueId()> new_group_id;
  std::function<std::unique_ptr<kernels::NcclCollective>(kernels::Backend&, const kernels::NcclUniqueId&, int index,
                                                         int world)>
      join_group;
  std::string kind;  // added to the executor's name: ", NCCL on GPUs"
};
BuiltExecutor build_threaded_split(const EngineConfig& config, const model::ModelConfig& model,
                                   const model::ModelWeights& weights, const PoolSizer& size_pools,
                                   std::shared_ptr<const grammar::Vocabulary> vocabulary, const ThreadedSplit& split);

// Throws std::invalid_argument, in words, for a split of `model` that
// config (its device, tensor_parallel_size, pipeline_parallel_size) asks
// for and this build, this host or the model cannot do. Ranks as threads
// run on the CPU or on GPUs (one a rank: cuda:N to cuda:N+T*P-1, and
// NCCL for T > 1); ranks in worker processes on the CPU only.
enum class SplitOver : std::uint8_t { threads, workers };
void refuse_what_cannot_split(const EngineConfig& config, const model::ModelConfig& model, SplitOver over);

// What joins one rank to the others: its stage's tensor-parallel group
// (with tensor_parallel_size > 1) and the pipeline links from the stage
// before and to the stage after (with pipeline_parallel_size > 1, where
// such a stage exists). Threads of this process or Gloo's; they must
// outlive the rank's executor.
struct RankLinks {
  kernels::Collective* tensor_parallel = nullptr;
  kernels::StageLink* from = nullptr;
  kernels::StageLink* to = nullptr;
};
struct BuiltRank {
  std::unique_ptr<engine::StepExecutor> executor;
  KvPoolSizes sizes;
};
// Rank `rank` of config's split (stage rank / tensor_parallel_size, the
// stage's rank rank % tensor_parallel_size): its shard of the weights and
// its stage's layers on a backend of its own, joined to `links`, its pools
// sized by `size_pools`. The one code path of a rank, in threads
// (build_parallel_executor) and in worker processes.
// `backend`, when given, is the rank's (else one is made on config.device).
BuiltRank build_rank(const EngineConfig& config, const model::ModelConfig& model, const model::ModelWeights& weights,
                     int rank, const RankLinks& links, const PoolSizer& size_pools,
                     std::shared_ptr<const grammar::Vocabulary> vocabulary,
                     std::unique_ptr<kernels::Backend> backend = nullptr);

}  // namespace pagedserve::actors
