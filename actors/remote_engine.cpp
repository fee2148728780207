// A server whose executor is a worker's: connects, agrees on the model,
// has the worker set up an executor, and starts the actors around it. The
// block manager, the scheduler and the router stay here; the router
// monitors the executor's proxy, so a lost link ends the engine as any
// dead actor does.

#include <caf/io/all.hpp>

#include "actors/runtime.hpp"
#include "actors/worker_link.hpp"

namespace pagedserve::actors {

namespace {

// The handshake's two questions wait this long for their answer.
constexpr auto kHandshakeTimeout = std::chrono::seconds(120);

template <class... Ts>
void ask(caf::actor_system& system, const worker_actor& worker, const std::string& where, const auto& on_answer,
         Ts&&... message) {
  caf::scoped_actor self{system};
  std::optional<std::string> refused;
  self->request(worker, kHandshakeTimeout, std::forward<Ts>(message)...)
      .receive(on_answer, [&](caf::error& e) { refused = describe(e); });
  if (refused) throw std::runtime_error("the worker at " + where + " refused: " + *refused);
}

}  // namespace

std::unique_ptr<Engine> start_remote_engine(const EngineConfig& config, model::LoadedModel local) {
  const auto where = config.executor;
  const auto endpoint = parse_host_port(where, "--executor");
  if (config.tensor_parallel_size > 1 || config.pipeline_parallel_size > 1)
    throw std::invalid_argument("--tensor-parallel-size " + std::to_string(config.tensor_parallel_size) +
                                " --pipeline-parallel-size " + std::to_string(config.pipeline_parallel_size) +
                                " with --executor: a worker runs the whole model on its one device");
  if (!local.tokenizer) throw std::invalid_argument("the model " + config.model + " has no tokenizer: set a tokenizer path");
  EngineParts parts;
  parts.model_config = local.config;
  parts.tokenizer = std::move(local.tokenizer);
  parts.max_model_len = resolve_max_model_len(config, local.config);
  local.weights = {};  // the worker runs the model; the server needs its config and tokenizer
  const auto vocabulary = model::grammar_vocabulary(*parts.tokenizer, parts.model_config.vocab_size,
                                                    parts.model_config.eos_ids);

  auto runtime = make_runtime(true);
  auto worker = runtime.system->middleman().remote_actor<worker_actor>(endpoint.host, endpoint.port);
  if (!worker) throw std::runtime_error("cannot reach the worker at " + where + ": " + runtime.system->render(worker.error()));

  ModelShape theirs;
  ask(*runtime.system, *worker, where, [&](ModelShape& shape) { theirs = std::move(shape); }, hello_atom_v);
  if (auto field = shape_mismatch(shape_of(parts.model_config), theirs))
    throw std::runtime_error("the worker at " + where + " serves the model '" + theirs.name + "', not this server's '" +
                             parts.model_config.name + "' (" + *field + " differs)");
  ask(*runtime.system, *worker, where, [&](WorkerPools& pools, executor_actor& executor) {
    parts.num_gpu_blocks = pools.num_gpu_blocks;
    parts.num_cpu_blocks = pools.num_cpu_blocks;
    runtime.remote_executor = std::move(executor);
  }, setup_atom_v, executor_setup(config, parts.max_model_len, *vocabulary));
  return start_engine(config, std::move(parts), std::move(runtime));
}

}  // namespace pagedserve::actors
