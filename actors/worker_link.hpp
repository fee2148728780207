#pragma once
// The worker link: an executor in another process. A worker
// (`pagedserve worker`) loads the model and publishes a worker_actor with
// CAF's network layer; a server (`serve --executor HOST:PORT`) asks it for
// its model's shape, refuses a different model by name, then has it set up
// one executor whose KV pools the server's block manager plans against.
//
// The link is unauthenticated and unencrypted: whoever reaches the port can
// drive the executor. It belongs on a private network.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/engine_start.hpp"
#include "actors/protocol.hpp"

namespace pagedserve::actors {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
// "HOST:PORT" or "[IPv6]:PORT"; throws std::invalid_argument naming `what`.
HostPort parse_host_port(const std::string& text, const std::string& what);

ModelShape shape_of(const model::ModelConfig& config);
// The first field in which the worker's model differs from the server's,
// in words; nullopt when they agree.
std::optional<std::string> shape_mismatch(const ModelShape& server, const ModelShape& worker);

// The server's settings and its tokenizer's `vocabulary`, for a worker.
ExecutorSetup executor_setup(const EngineConfig& config, int max_model_len, const grammar::Vocabulary& vocabulary);
// The vocabulary a setup carries, for a model of `vocab_size` tokens
// (throws std::invalid_argument for another size).
std::shared_ptr<const grammar::Vocabulary> setup_vocabulary(const ExecutorSetup& setup, int vocab_size);

// What a worker serves: its model, loaded once, on its device.
struct WorkerModel {
  model::LoadedModel loaded;
  std::string device;
  int rank = -1;  // --rank: the place a server must give it in a split model (-1: any)
  // The address its Gloo connections listen on, for its peers in a split
  // model (its --listen host: one they reach).
  std::string gloo_host = "127.0.0.1";
};
// The worker's front door; set up executors run in `system`.
worker_actor spawn_worker(caf::actor_system& system, std::shared_ptr<const WorkerModel> served);

// Engine::start with `config.executor` set: the tokenizer and model config
// are the server's (`local`, from the same --model), the executor the
// worker's. Throws std::runtime_error naming the worker on any failure.
std::unique_ptr<Engine> start_remote_engine(const EngineConfig& config, model::LoadedModel local);

}  // namespace pagedserve::actors
