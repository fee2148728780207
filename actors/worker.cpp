// The worker actor: a worker process's front door. It tells its model's
// shape and its --rank, and sets up one executor at a time, for one server
// (the whole model, or one rank of a split model: actors/worker_rank.hpp): the backend,
// the model on the device and the KV pools, sized from the server's
// settings, and constrained decoding over the server's vocabulary. The executor ends with the scheduler it serves (it monitors
// it), and with it the KV pools; then the worker takes the next server.
// When the worker itself stops, it ends the executor it set up.

#include "actors/runtime.hpp"
#include "actors/worker_link.hpp"
#include "actors/worker_rank.hpp"

namespace pagedserve::actors {

namespace {

struct WorkerState {
  std::shared_ptr<const WorkerModel> served;
  executor_actor current;  // the executor of the server being served
  static inline const char* name = "worker";
};

EngineConfig engine_config_of(const ExecutorSetup& s, const WorkerModel& served) {
  EngineConfig c;
  c.device = served.device;
  c.dtype = s.dtype;
  c.simple_attention = s.simple_attention;
  c.enforce_eager = s.enforce_eager;
  c.block_size = s.block_size;
  c.num_gpu_blocks = s.num_gpu_blocks;
  c.gpu_memory_utilization = s.gpu_memory_utilization;
  c.swap_space_gib = s.swap_space_gib;
  c.max_num_seqs = s.max_num_seqs;
  c.max_num_batched_tokens = s.max_num_batched_tokens;
  c.max_model_len = s.max_model_len;
  return c;
}

caf::result<WorkerPools, executor_actor> setup(worker_actor::stateful_pointer<WorkerState> self,
                                               const ExecutorSetup& request, const ParallelPlace& place,
                                               const rendezvous_actor& rendezvous) {
  auto& st = self->state;
  if (st.current) return caf::make_error(engine_errc::worker_refused, std::string("it serves another server"));
  const auto& served = *st.served;
  const auto& loaded = served.loaded;
  if (served.rank >= 0 && served.rank != place.rank)
    return caf::make_error(engine_errc::worker_refused, "it is --rank " + std::to_string(served.rank) +
                                                            ", not rank " + std::to_string(place.rank));
  try {
    auto config = engine_config_of(request, served);
    config.tensor_parallel_size = place.tensor_parallel_size;
    config.pipeline_parallel_size = place.pipeline_parallel_size;
    const int max_model_len = resolve_max_model_len(config, loaded.config);
    auto vocabulary = setup_vocabulary(request, loaded.config.vocab_size);  // the server's: it decodes the text
    // A split model's rank meets the other ranks here: this handler waits
    // for their setups (all sent at once) in the Gloo rendezvous.
    auto built = place.world() == 1
                     ? build_executor(config, loaded.config, loaded.weights, max_model_len, std::move(vocabulary))
                     : build_worker_rank(self->system(), config, loaded, place.rank, rendezvous, served.gloo_host,
                                         max_model_len, std::move(vocabulary));
    st.current = spawn_executor(self->system(), std::move(built.executor));
    self->monitor(st.current);
    return caf::make_result(WorkerPools{built.sizes.num_gpu_blocks, built.sizes.num_cpu_blocks}, st.current);
  } catch (const std::exception& e) {
    return caf::make_error(engine_errc::worker_refused, std::string(e.what()));
  }
}

worker_actor::behavior_type worker(worker_actor::stateful_pointer<WorkerState> self,
                                   std::shared_ptr<const WorkerModel> served) {
  self->state.served = std::move(served);
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source == self->state.current.address()) self->state.current = nullptr;
  });
  // The worker stops: the executor it set up ends too (else the process
  // would wait for it), with a reason the server's supervision reports.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (self->state.current)
      self->send_exit(self->state.current,
                      caf::make_error(engine_errc::worker_stopped, std::string("the worker process is stopping")));
    self->quit(msg.reason);
  });
  return {
      [=](hello_atom) { return caf::make_result(shape_of(self->state.served->loaded.config), self->state.served->rank); },
      [=](setup_atom, const ExecutorSetup& request, const ParallelPlace& place, const rendezvous_actor& rendezvous) {
        return setup(self, request, place, rendezvous);
      },
  };
}

}  // namespace

worker_actor spawn_worker(caf::actor_system& system, std::shared_ptr<const WorkerModel> served) {
  return system.spawn(worker, std::move(served));
}

}  // namespace pagedserve::actors
