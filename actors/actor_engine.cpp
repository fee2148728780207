// The Engine facade over the actor runtime: validates and admits requests
// on the caller's thread, then talks to the actors by message only.
//
// Invariant: active_ holds exactly the requests submitted and not yet done
// (the router reports each RequestDone after delivering it). It keeps their
// sinks only to end them should the router itself end.

#include "actors/engine_start.hpp"

#include <caf/io/all.hpp>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "actors/runtime.hpp"
#include "actors/supervision.hpp"
#include "engine/request_limits.hpp"

namespace pagedserve::actors {

namespace {

constexpr auto kQueryTimeout = std::chrono::seconds(30);

class ActorEngine final : public Engine {
 public:
  ActorEngine(const EngineConfig& config, EngineParts parts, EngineRuntime runtime);
  ~ActorEngine() override;

  const EngineConfig& config() const override { return config_; }
  const model::ModelConfig& model_config() const override { return parts_.model_config; }
  const model::Tokenizer& tokenizer() const override { return *parts_.tokenizer; }
  int max_model_len() const override { return parts_.max_model_len; }

  SubmitResult submit(GenerateRequest request, std::shared_ptr<RequestSink> sink) override;
  void cancel(const std::string& request_id) override;
  EngineMetrics metrics() override;
  AdminSnapshot admin_snapshot(const AdminQuery& query) override;
  void shutdown(std::chrono::milliseconds drain) override;
  std::optional<std::string> dead_reason() const override { return health_->dead_reason(); }
  bool answers(std::chrono::milliseconds timeout) override;
  void inject_failure(EngineActor which, const std::string& why);

 private:
  void on_done(const std::string& request_id);
  void end_orphans(const std::string& reason);
  void spawn_actors();

  EngineConfig config_;
  EngineParts parts_;
  engine::RequestLimits limits_;
  std::shared_ptr<SharedGauges> gauges_ = std::make_shared<SharedGauges>();
  std::shared_ptr<EngineHealth> health_ = std::make_shared<EngineHealth>();
  std::unique_ptr<caf::actor_system_config> caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  executor_actor executor_;
  router_actor router_;
  scheduler_actor scheduler_;
  block_manager_actor blocks_;
  std::mutex mu_;
  std::condition_variable all_done_;
  std::unordered_map<std::string, OpenRequest> active_;
  bool accepting_ = true;
  bool stopped_ = false;
};

memory::BlockManagerConfig block_config(const EngineConfig& c, const EngineParts& p) {
  memory::BlockManagerConfig b;
  b.block_size = c.block_size;
  b.num_gpu_blocks = p.num_gpu_blocks;
  b.num_cpu_blocks = p.num_cpu_blocks;
  b.enable_prefix_caching = c.enable_prefix_caching;
  b.watermark = c.watermark;
  b.max_model_len = p.max_model_len;
  return b;
}

ActorEngine::ActorEngine(const EngineConfig& config, EngineParts parts, EngineRuntime runtime)
    : config_(config),
      parts_(std::move(parts)),
      caf_config_(std::move(runtime.config)),
      system_(std::move(runtime.system)),
      executor_(std::move(runtime.remote_executor)) {
  if (!parts_.tokenizer || !(parts_.executor || executor_))
    throw std::invalid_argument("an engine needs a tokenizer and an executor");
  if (config.max_waiting_requests < 1) throw std::invalid_argument("max_waiting_requests must be at least 1");
  if (config.max_n < 1) throw std::invalid_argument("max_n must be at least 1");
  limits_.vocab_size = parts_.model_config.vocab_size;
  limits_.max_model_len = parts_.max_model_len;
  limits_.sliding_window = parts_.model_config.sliding_window;
  limits_.max_n = config.max_n;
  limits_.max_num_seqs = config.max_num_seqs;
  limits_.block_size = config.block_size;
  limits_.num_usable_gpu_blocks = block_config(config, parts_).num_usable_gpu_blocks();
  spawn_actors();
}

void ActorEngine::spawn_actors() {
  engine::SchedulerConfig sched{config_.max_num_seqs, config_.max_num_batched_tokens, config_.preemption_mode};
  sched.validate();
  const auto blocks = block_config(config_, parts_);
  if (!(blocks.watermark >= 0 && blocks.watermark < 1)) throw std::invalid_argument("watermark must be in [0, 1)");
  if (blocks.num_gpu_blocks < 1) throw std::invalid_argument("the KV pool needs at least one block");
  if (!executor_) executor_ = spawn_executor(*system_, parts_.executor);
  blocks_ = spawn_block_manager(*system_, blocks, executor_);
  router_ = spawn_router(*system_, [this](const std::string& id) { on_done(id); }, health_);
  SchedulerActorConfig sc{sched,   parts_.tokenizer.get(), parts_.model_config.eos_ids, parts_.max_model_len,
                          blocks.num_gpu_blocks, blocks.num_cpu_blocks, gauges_, health_,
                          [this](const std::string& reason) { end_orphans(reason); }};
  scheduler_ = spawn_scheduler(*system_, std::move(sc), router_, blocks_, executor_);
  // The router supervises the others; it learns of them before any request.
  caf::anon_send(router_, connect_atom_v, blocks_, executor_);
  caf::anon_send(router_, connect_atom_v, scheduler_);
  caf::anon_send(executor_, connect_atom_v, step_results_actor{scheduler_});
}

ActorEngine::~ActorEngine() {
  shutdown(std::chrono::milliseconds(0));
  // Our handles keep the actors alive: drop them, then join every actor
  // before the members they call back go.
  router_ = nullptr;
  scheduler_ = nullptr;
  blocks_ = nullptr;
  executor_ = nullptr;
  system_.reset();
}

SubmitResult ActorEngine::submit(GenerateRequest request, std::shared_ptr<RequestSink> sink) {
  if (!sink) throw std::invalid_argument("submit() needs a RequestSink");
  if (auto refused = limits_.check(request); !refused.ok()) return refused;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return {SubmitError::shutting_down, "the engine is shutting down", ""};
    if (auto reason = health_->dead_reason()) return {SubmitError::engine_dead, dead_message(*reason), ""};
    if (active_.count(request.request_id))
      return {SubmitError::duplicate_id, "a request with id '" + request.request_id + "' is already running", "request_id"};
    const int queued = gauges_->num_waiting + gauges_->num_in_transit;
    if (queued >= config_.max_waiting_requests)
      return {SubmitError::overloaded, "the server is overloaded: " + std::to_string(queued) + " requests are waiting", ""};
    active_[request.request_id] = {sink, std::vector<bool>(static_cast<std::size_t>(std::max(request.n, 1)), false)};
    ++gauges_->num_in_transit;
  }
  caf::anon_send(router_, submit_atom_v, SubmitMsg{std::move(request), std::move(sink)});
  return {};
}

void ActorEngine::cancel(const std::string& request_id) { caf::anon_send(router_, cancel_atom_v, request_id); }

void ActorEngine::on_done(const std::string& request_id) {
  std::lock_guard lock(mu_);
  active_.erase(request_id);
  all_done_.notify_all();
}

// The router ended, so nobody else can: every open request ends here. (The
// facade does not know which samples finished; a sample may see a second
// finish, with the error.)
void ActorEngine::end_orphans(const std::string& reason) {
  std::unordered_map<std::string, OpenRequest> orphans;
  {
    std::lock_guard lock(mu_);
    orphans.swap(active_);
  }
  for (auto& [id, open] : orphans) end_with_error(id, open, dead_message(reason));
  std::lock_guard lock(mu_);
  all_done_.notify_all();
}

void ActorEngine::inject_failure(EngineActor which, const std::string& why) {
  switch (which) {
    case EngineActor::router: caf::anon_send(router_, fail_atom_v, why); break;
    case EngineActor::scheduler: caf::anon_send(scheduler_, fail_atom_v, why); break;
    case EngineActor::block_manager: caf::anon_send(blocks_, fail_atom_v, why); break;
    case EngineActor::executor: caf::anon_send(executor_, fail_atom_v, why); break;
  }
}

bool ActorEngine::answers(std::chrono::milliseconds timeout) {
  if (health_->dead()) return false;
  caf::scoped_actor self{*system_};
  bool ok = false;
  self->request(scheduler_, timeout, ping_atom_v).receive([&](bool progressing) { ok = progressing; }, [](caf::error&) {});
  return ok && !health_->dead();
}

EngineMetrics ActorEngine::metrics() {
  caf::scoped_actor self{*system_};
  EngineMetrics out;
  self->request(scheduler_, kQueryTimeout, metrics_atom_v)
      .receive([&](EngineMetrics& m) { out = std::move(m); },
               [&](caf::error& e) { throw std::runtime_error("metrics: " + to_string(e)); });
  return out;
}

AdminSnapshot ActorEngine::admin_snapshot(const AdminQuery& query) {
  caf::scoped_actor self{*system_};
  AdminSnapshot out;
  self->request(scheduler_, kQueryTimeout, admin_atom_v, query)
      .receive([&](AdminSnapshot& s) { out = std::move(s); },
               [&](caf::error& e) { throw std::runtime_error("admin snapshot: " + to_string(e)); });
  return out;
}

void ActorEngine::shutdown(std::chrono::milliseconds drain) {
  std::unique_lock lock(mu_);
  accepting_ = false;
  if (stopped_) return;
  all_done_.wait_for(lock, drain, [&] { return active_.empty(); });
  // Cancel what is left, including requests still on their way in.
  for (int i = 0; i < 600 && !active_.empty(); ++i) {
    caf::anon_send(scheduler_, cancel_all_atom_v);
    all_done_.wait_for(lock, std::chrono::milliseconds(100), [&] { return active_.empty(); });
  }
  stopped_ = true;
  lock.unlock();
  for (const auto& a : {caf::actor_cast<caf::actor>(router_), caf::actor_cast<caf::actor>(scheduler_),
                        caf::actor_cast<caf::actor>(blocks_), caf::actor_cast<caf::actor>(executor_)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace

EngineRuntime make_runtime(bool networked, int scheduler_threads) {
  EngineRuntime rt;
  rt.config = std::make_unique<caf::actor_system_config>();
  add_message_types(*rt.config);
  if (networked) rt.config->load<caf::io::middleman>();
  // A step is a chain of messages with nothing to steal in between: workers
  // that wait on a condition variable wake faster than work-stealing ones,
  // which back off to 50 us sleeps when idle (bench overhead: ~2x per step).
  rt.config->set("scheduler.policy", caf::atom("sharing"));
  // The three event-based actors form one chain per step and the executor
  // has its own thread, so one worker runs the chain without waking another
  // (bench overhead, 2 cores: 1.17x faster than with two workers).
  rt.config->set("scheduler.max-threads", scheduler_threads);
  rt.system = std::make_unique<caf::actor_system>(*rt.config);
  return rt;
}

std::unique_ptr<Engine> start_engine(const EngineConfig& config, EngineParts parts, EngineRuntime runtime) {
  return std::make_unique<ActorEngine>(config, std::move(parts), std::move(runtime));
}

std::unique_ptr<Engine> start_engine(const EngineConfig& config, EngineParts parts) {
  return start_engine(config, std::move(parts), make_runtime(false));
}

void inject_failure(Engine& engine, EngineActor which, const std::string& why) {
  dynamic_cast<ActorEngine&>(engine).inject_failure(which, why);
}

}  // namespace pagedserve::actors
