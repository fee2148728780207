// A server whose executor is a worker's, or the executors of several
// workers that hold one model split over them (tensor and pipeline
// parallelism, one rank per worker): connects, agrees on the model, has
// each worker set up its executor, and starts the actors around it. The
// block manager, the scheduler and the router stay here; the router
// monitors the executor's proxy (or the rank group in front of the ranks'),
// so a lost link ends the engine as any dead actor does.

#include <caf/io/all.hpp>
#include <algorithm>

#include "actors/rank_group.hpp"
#include "actors/rendezvous.hpp"
#include "actors/runtime.hpp"
#include "actors/worker_link.hpp"
#include "model/pipeline_parallel.hpp"
#include "model/tensor_parallel.hpp"

namespace pagedserve::actors {

namespace {

// The handshake's questions wait this long for their answer.
constexpr auto kHandshakeTimeout = std::chrono::seconds(120);

std::string ordinal(std::size_t i) {
  const std::size_t n = i + 1;
  const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  return std::to_string(n) + suffix;
}

struct Worker {
  std::string where;
  worker_actor actor;
};

void refuse_split(const EngineConfig& config, const model::ModelConfig& model) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  const auto ranks = static_cast<std::size_t>(tp) * static_cast<std::size_t>(pp);
  if (config.executors.size() != ranks)
    throw std::invalid_argument("--tensor-parallel-size " + std::to_string(tp) + " x --pipeline-parallel-size " +
                                std::to_string(pp) + " needs " + std::to_string(ranks) +
                                " workers, one --executor HOST:PORT per rank in rank order; " +
                                std::to_string(config.executors.size()) + " given");
  for (std::size_t i = 0; i < ranks; ++i)
    for (std::size_t j = i + 1; j < ranks; ++j)
      if (config.executors[i] == config.executors[j])
        throw std::invalid_argument("--executor " + config.executors[i] + " is given twice: a worker runs one rank");
  if (auto reason = model::tensor_parallel_refusal(model, tp); !reason.empty()) throw std::invalid_argument(reason);
  if (auto reason = model::pipeline_parallel_refusal(model, pp); !reason.empty()) throw std::invalid_argument(reason);
}

// Asks every worker its model and rank: the model must be the server's,
// and a worker started with --rank must sit at that place in the list.
void check_workers(caf::actor_system& system, const std::vector<Worker>& workers, const model::ModelConfig& ours) {
  caf::scoped_actor self{system};
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const auto& w = workers[i];
    std::optional<std::string> refused;
    ModelShape theirs;
    int their_rank = -1;
    self->request(w.actor, kHandshakeTimeout, hello_atom_v)
        .receive(
            [&](ModelShape& shape, int rank) {
              theirs = std::move(shape);
              their_rank = rank;
            },
            [&](caf::error& e) { refused = describe(e); });
    if (refused) throw std::runtime_error("the worker at " + w.where + " refused: " + *refused);
    if (auto field = shape_mismatch(shape_of(ours), theirs))
      throw std::runtime_error("the worker at " + w.where + " serves the model '" + theirs.name + "', not this server's '" +
                               ours.name + "' (" + *field + " differs)");
    if (their_rank >= 0 && static_cast<std::size_t>(their_rank) != i)
      throw std::runtime_error("the worker at " + w.where + " is --rank " + std::to_string(their_rank) + ", but is the " +
                               ordinal(i) + " --executor (rank " + std::to_string(i) + ")");
  }
}

struct SetUp {
  std::vector<RankExecutor> ranks;
  WorkerPools pools;  // the smallest of every rank's
};

// Sends every worker its setup at once (a split model's ranks meet in the
// Gloo rendezvous while they set up, so none may wait for another's
// answer), then collects the answers in rank order. On any refusal the
// executors already set up are ended, freeing their workers.
SetUp set_up_workers(caf::actor_system& system, const std::vector<Worker>& workers, const ExecutorSetup& setup,
                     const EngineConfig& config) {
  const int tp = config.tensor_parallel_size, pp = config.pipeline_parallel_size;
  const rendezvous_actor rendezvous = workers.size() > 1 ? spawn_rendezvous(system) : rendezvous_actor{};
  caf::scoped_actor self{system};
  using Handle = decltype(self->request(workers[0].actor, kHandshakeTimeout, setup_atom_v, setup, ParallelPlace{},
                                        rendezvous));
  std::vector<Handle> asked;
  for (std::size_t i = 0; i < workers.size(); ++i)
    asked.push_back(self->request(workers[i].actor, kHandshakeTimeout, setup_atom_v, setup,
                                  ParallelPlace{static_cast<int>(i), tp, pp}, rendezvous));
  SetUp out;
  std::optional<std::string> refused;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    asked[i].receive(
        [&](WorkerPools& pools, executor_actor& executor) {
          if (out.ranks.empty()) out.pools = pools;
          out.pools.num_gpu_blocks = std::min(out.pools.num_gpu_blocks, pools.num_gpu_blocks);
          out.pools.num_cpu_blocks = std::min(out.pools.num_cpu_blocks, pools.num_cpu_blocks);
          out.ranks.push_back({std::move(executor), workers[i].where});
        },
        [&](caf::error& e) {
          if (!refused) refused = "the worker at " + workers[i].where + " refused: " + describe(e);
        });
  }
  if (rendezvous) caf::anon_send_exit(rendezvous, caf::exit_reason::user_shutdown);
  if (refused) {
    for (const auto& r : out.ranks) caf::anon_send_exit(r.executor, caf::exit_reason::user_shutdown);
    throw std::runtime_error(*refused);
  }
  return out;
}

}  // namespace

std::unique_ptr<Engine> start_remote_engine(const EngineConfig& config, model::LoadedModel local) {
  refuse_split(config, local.config);
  if (!local.tokenizer) throw std::invalid_argument("the model " + config.model + " has no tokenizer: set a tokenizer path");
  EngineParts parts;
  parts.model_config = local.config;
  parts.tokenizer = std::move(local.tokenizer);
  parts.max_model_len = resolve_max_model_len(config, local.config);
  local.weights = {};  // the workers run the model; the server needs its config and tokenizer
  const auto vocabulary = model::grammar_vocabulary(*parts.tokenizer, parts.model_config.vocab_size,
                                                    parts.model_config.eos_ids);

  auto runtime = make_runtime(true);
  std::vector<Worker> workers;
  for (const auto& where : config.executors) {
    const auto endpoint = parse_host_port(where, "--executor");
    auto worker = runtime.system->middleman().remote_actor<worker_actor>(endpoint.host, endpoint.port);
    if (!worker) throw std::runtime_error("cannot reach the worker at " + where + ": " + runtime.system->render(worker.error()));
    workers.push_back({where, std::move(*worker)});
  }
  check_workers(*runtime.system, workers, parts.model_config);
  auto set_up = set_up_workers(*runtime.system, workers, executor_setup(config, parts.max_model_len, *vocabulary), config);
  // The block manager plans block ids every rank holds.
  parts.num_gpu_blocks = set_up.pools.num_gpu_blocks;
  parts.num_cpu_blocks = set_up.pools.num_cpu_blocks;
  if (set_up.ranks.size() == 1) {
    runtime.remote_executor = std::move(set_up.ranks.front().executor);
  } else {
    const int first_sampling = (config.pipeline_parallel_size - 1) * config.tensor_parallel_size;
    runtime.remote_executor = spawn_rank_group(*runtime.system, std::move(set_up.ranks), first_sampling);
  }
  return start_engine(config, std::move(parts), std::move(runtime));
}

}  // namespace pagedserve::actors
