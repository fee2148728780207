#pragma once
// Every message of the actor runtime, the type-ID block and the actors'
// interfaces, in one place. One step:
//
//   [scheduler] --plan(MemoryRequest)--> [block manager]
//   [block manager] --MemoryGrant (the answer)--> [scheduler]
//   [block manager] --execute(StepPlan)--> [executor]
//   [executor] --executed(StepResult)--> [scheduler]
//   [scheduler] --events--> [router] --> RequestSinks
//
// Everything that crosses is a value with an `inspect` overload
// (actors/inspect.hpp), so it can cross a process boundary too. The one
// exception is SubmitMsg, from the facade to the router in the same
// process: it carries the request's sink, a callback into the caller.
//
// Failures are typed: a caf::error of the `pagedserve` category
// (engine_errc). An actor whose state is no longer known quits with one;
// the scheduler monitors the others and ends the engine (actors/supervision).

#include <caf/all.hpp>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "actors/inspect.hpp"

namespace pagedserve::actors {

// Why the engine stopped working.
enum class engine_errc : std::uint8_t {
  step_failed = 1,    // the executor threw: the KV cache is in an unknown state
  planning_failed,    // the block manager threw: the pools are in an unknown state
  scheduling_failed,  // the scheduler threw: the queues are in an unknown state
  delivery_failed,    // the router threw
  worker_refused,     // a worker would not set up an executor (busy, bad setup)
  worker_stopped,     // the worker process was told to stop (SIGTERM)
  rank_failed,        // a rank of a model split over workers ended (its step failed, its link was lost)
};
std::string to_string(engine_errc x);

// From the facade to the router: the request and where its events go.
struct SubmitMsg {
  GenerateRequest request;
  std::shared_ptr<RequestSink> sink;
};
// The sink is a callback into the facade's caller and never leaves the
// process; only the request is serialized.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SubmitMsg& x) {
  return f(caf::meta::type_name("SubmitMsg"), x.request);
}

struct BlockStats {
  memory::BlockManagerStats stats;
  int peak_gpu_blocks_used = 0;  // since start
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BlockStats& x) {
  return f(caf::meta::type_name("BlockStats"), x.stats, x.peak_gpu_blocks_used);
}

// Who owns each sequence, for the block manager's admin views (the scheduler
// knows; the block manager's snapshots name them).
struct SeqOwner {
  engine::SeqId seq_id = 0;
  std::string request_id;
  int index = 0;
  std::string status;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SeqOwner& x) {
  return f(caf::meta::type_name("SeqOwner"), x.seq_id, x.request_id, x.index, x.status);
}

using EventList = std::vector<engine::Event>;
using SeqOwnerList = std::vector<SeqOwner>;

// --- the worker link: an executor in another process --------------------------
//
//   [server] --hello--> [worker]                          ModelShape, its --rank
//   [server] --setup(ExecutorSetup, ParallelPlace,
//                    rendezvous)--> [worker]              WorkerPools, executor
//   then the step as above, with the executor's messages on the wire.
//
// A model split over several workers (tensor and pipeline parallelism):
// the server sends every worker its setup at once; while setting up, each
// worker's Gloo rendezvous reads and writes its peers' addresses through
// the server's rendezvous actor (rendezvous_set, rendezvous_get), then the
// ranks connect to each other directly. Each step's plan goes to every
// rank's executor through the server's rank group (actors/rank_group.hpp),
// which gathers their results.

// What a server must agree on with a worker's model: its name and shape.
struct ModelShape {
  std::string name;
  std::string architecture;
  int dim = 0, hidden_dim = 0, num_layers = 0, num_heads = 0, num_kv_heads = 0, head_size = 0;
  int vocab_size = 0, max_seq_len = 0, sliding_window = 0;
  std::int32_t bos_id = 0;
  std::vector<std::int32_t> eos_ids;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ModelShape& x) {
  return f(caf::meta::type_name("ModelShape"), x.name, x.architecture, x.dim, x.hidden_dim, x.num_layers,
           x.num_heads, x.num_kv_heads, x.head_size, x.vocab_size, x.max_seq_len, x.sliding_window, x.bos_id,
           x.eos_ids);
}

// The server's settings a worker needs to build its backend and size its
// KV pools (the device and the model are the worker's own).
struct ExecutorSetup {
  std::string dtype = "auto";
  bool simple_attention = false;
  bool enforce_eager = false;
  int block_size = 16;
  int num_gpu_blocks = 0;
  double gpu_memory_utilization = 0.9;
  double swap_space_gib = 4.0;
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  int max_model_len = 0;  // resolved: never 0
  // The server's tokenizer as constrained decoding sees it (a
  // grammar::Vocabulary's token bytes and end-of-sequence ids): the worker
  // masks over it, so its masks fit the text the server decodes, whatever
  // tokenizer the worker's model directory holds, or none.
  std::vector<std::string> token_bytes;
  std::vector<std::int32_t> eos_ids;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ExecutorSetup& x) {
  return f(caf::meta::type_name("ExecutorSetup"), x.dtype, x.simple_attention, x.enforce_eager, x.block_size,
           x.num_gpu_blocks, x.gpu_memory_utilization, x.swap_space_gib, x.max_num_seqs, x.max_num_batched_tokens,
           x.max_model_len, x.token_bytes, x.eos_ids);
}

// Where a worker's executor sits in a split model: its rank (stage rank /
// tensor_parallel_size, rank rank % tensor_parallel_size within the stage's
// tensor-parallel group). One rank of one: the whole model.
struct ParallelPlace {
  int rank = 0;
  int tensor_parallel_size = 1;
  int pipeline_parallel_size = 1;
  int world() const { return tensor_parallel_size * pipeline_parallel_size; }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ParallelPlace& x) {
  return f(caf::meta::type_name("ParallelPlace"), x.rank, x.tensor_parallel_size, x.pipeline_parallel_size);
}

// The worker's answer to a setup: the KV pools it allocated (the server's
// block manager plans against them) and the executor that owns them.
struct WorkerPools {
  int num_gpu_blocks = 0;
  int num_cpu_blocks = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WorkerPools& x) {
  return f(caf::meta::type_name("WorkerPools"), x.num_gpu_blocks, x.num_cpu_blocks);
}

}  // namespace pagedserve::actors

CAF_ERROR_CODE_ENUM(pagedserve::actors::engine_errc, "pagedserve")

CAF_BEGIN_TYPE_ID_BLOCK(pagedserve, caf::first_custom_type_id)
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, step_atom, "step")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, plan_atom, "plan")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, execute_atom, "execute")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, executed_atom, "executed")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, submit_atom, "submit")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_atom, "cancel")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, cancel_all_atom, "cancelall")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, events_atom, "events")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, metrics_atom, "metrics")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, stats_atom, "stats")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, admin_atom, "admin")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, connect_atom, "connect")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, ping_atom, "ping")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, fail_atom, "fail")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, hello_atom, "hello")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, setup_atom, "setup")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, step_failed_atom, "stepfailed")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, rendezvous_set_atom, "rdvset")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, rendezvous_get_atom, "rdvget")
  CAF_ADD_ATOM(pagedserve, pagedserve::actors, nccl_id_atom, "ncclid")
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::MemoryRequest))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::MemoryGrant))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::StepPlan))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::StepResult))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::engine::GenerateRequest))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SubmitMsg))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::EventList))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::EngineMetrics))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::BlockStats))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::SeqOwnerList))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::AdminQuery))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::AdminSnapshot))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::engine_errc))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::ModelShape))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::ExecutorSetup))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::WorkerPools))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::actors::ParallelPlace))
  CAF_ADD_TYPE_ID(pagedserve, (pagedserve::kernels::NcclUniqueId))
CAF_END_TYPE_ID_BLOCK(pagedserve)

namespace pagedserve::actors {

// The scheduler: the queues, the policy, output processing, the step loop.
using scheduler_actor = caf::typed_actor<
    caf::reacts_to<step_atom>,
    caf::reacts_to<executed_atom, engine::StepResult>,
    caf::reacts_to<submit_atom, GenerateRequest>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<cancel_all_atom>,
    caf::replies_to<metrics_atom>::with<EngineMetrics>,
    caf::replies_to<admin_atom, AdminQuery>::with<AdminSnapshot>,
    caf::replies_to<ping_atom>::with<bool>,
    caf::reacts_to<fail_atom, std::string>>;

// Where an executor's results go: the scheduler, or the rank group that
// gathers the results of a split model's ranks.
using step_results_actor = caf::typed_actor<caf::reacts_to<executed_atom, engine::StepResult>>;

// One device's KV cache and model; its results go to the actor it was
// connected to, which it monitors and ends with. `executed` and
// `step_failed` come from its own step thread.
using executor_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, step_results_actor>,
    caf::reacts_to<execute_atom, engine::StepPlan>,
    caf::reacts_to<executed_atom, engine::StepResult>,
    caf::reacts_to<step_failed_atom, std::string>,
    caf::reacts_to<fail_atom, std::string>>;

// The pools: grants each step's memory and hands its plan to the executor.
using block_manager_actor = caf::typed_actor<
    caf::replies_to<plan_atom, engine::MemoryRequest>::with<engine::MemoryGrant>,
    caf::replies_to<stats_atom>::with<BlockStats>,
    caf::replies_to<admin_atom, AdminQuery, SeqOwnerList>::with<AdminSnapshot>,
    caf::reacts_to<fail_atom, std::string>>;

// The key-value store the Gloo rendezvous of a split model's workers meets
// in, in the server (actors/rendezvous.hpp): a get waits until the key is
// set. NCCL's unique ids (rank 0 of each GPU group makes one, the others
// join with it) go through it as values of their own type.
using rendezvous_actor = caf::typed_actor<
    caf::replies_to<rendezvous_set_atom, std::string, std::string>::with<bool>,
    caf::replies_to<rendezvous_get_atom, std::string>::with<std::string>,
    caf::replies_to<rendezvous_set_atom, std::string, kernels::NcclUniqueId>::with<bool>,
    caf::replies_to<nccl_id_atom, std::string>::with<kernels::NcclUniqueId>>;

// A worker process's front door: tells its model and its --rank (-1 when
// not given), and sets up one executor for one server at a time. The
// rendezvous is empty for a whole model.
using worker_actor = caf::typed_actor<
    caf::replies_to<hello_atom>::with<ModelShape, int>,
    caf::replies_to<setup_atom, ExecutorSetup, ParallelPlace, rendezvous_actor>::with<WorkerPools, executor_actor>>;

using router_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, scheduler_actor>,
    caf::reacts_to<connect_atom, block_manager_actor, executor_actor>,
    caf::reacts_to<submit_atom, SubmitMsg>,
    caf::reacts_to<cancel_atom, std::string>,
    caf::reacts_to<events_atom, EventList>,
    caf::reacts_to<fail_atom, std::string>>;

}  // namespace pagedserve::actors

// The actor handles that cross the worker link: a second block, after the
// interfaces the first one's atoms make possible.
CAF_BEGIN_TYPE_ID_BLOCK(pagedserve_handles, caf::id_block::pagedserve::end)
  CAF_ADD_TYPE_ID(pagedserve_handles, (pagedserve::actors::scheduler_actor))
  CAF_ADD_TYPE_ID(pagedserve_handles, (pagedserve::actors::executor_actor))
  CAF_ADD_TYPE_ID(pagedserve_handles, (pagedserve::actors::worker_actor))
  CAF_ADD_TYPE_ID(pagedserve_handles, (pagedserve::actors::step_results_actor))
  CAF_ADD_TYPE_ID(pagedserve_handles, (pagedserve::actors::rendezvous_actor))
CAF_END_TYPE_ID_BLOCK(pagedserve_handles)

namespace pagedserve::actors {

// Every message type, for an actor_system_config.
inline void add_message_types(caf::actor_system_config& config) {
  config.add_message_types<caf::id_block::pagedserve>();
  config.add_message_types<caf::id_block::pagedserve_handles>();
}

}  // namespace pagedserve::actors
