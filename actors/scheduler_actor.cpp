#include "actors/scheduler_actor.hpp"

#include "actors/admin_views.hpp"

namespace pagedserve::actors {

namespace {

constexpr std::size_t kLatencySamples = 1024;
// A step running longer than this means the device stopped answering.
constexpr auto kStepStallLimit = std::chrono::seconds(60);

void keep_recent(std::deque<double>& ring, const std::vector<double>& samples) {
  for (double s : samples) ring.push_back(s);
  while (ring.size() > kLatencySamples) ring.pop_front();
}

}  // namespace

void SchedulerState::init(SchedulerActorConfig config, router_actor router, block_manager_actor blocks,
                          executor_actor executor) {
  config_ = std::move(config);
  scheduler_ = std::make_unique<engine::Scheduler>(config_.scheduler);
  outputs_ = std::make_unique<engine::OutputProcessor>(config_.tokenizer, config_.eos_ids, config_.max_model_len);
  router_ = std::move(router);
  blocks_ = std::move(blocks);
  executor_ = std::move(executor);
  self_->monitor(router_);
}

void SchedulerState::when_granted(std::function<void()> f) {
  if (granting_) {
    deferred_.push_back(std::move(f));
  } else {
    f();
  }
}

void SchedulerState::kick() {
  if (step_queued_ || granting_ || in_flight_ || !scheduler_->has_work()) return;
  step_queued_ = true;
  self_->send(self_, step_atom_v);
}

void SchedulerState::publish(std::vector<engine::Event>& events) {
  config_.gauges->num_waiting = static_cast<int>(scheduler_->waiting().size());
  if (events.empty()) return;
  for (const auto& e : events) {
    num_tokens_generated_ += std::holds_alternative<TokenEvent>(e);
    num_requests_finished_ += std::holds_alternative<RequestDone>(e);
  }
  self_->send(router_, events_atom_v, std::move(events));
  events.clear();
}

void SchedulerState::submit(GenerateRequest& request) {
  when_granted([this, request = std::move(request)]() mutable {
    --config_.gauges->num_in_transit;
    std::vector<engine::Event> events;
    outputs_->add_request(std::move(request), *scheduler_, events);
    publish(events);
    kick();
  });
}

void SchedulerState::cancel(const std::string& request_id) {
  when_granted([this, request_id] {
    std::vector<engine::Event> events;
    if (auto g = scheduler_->abort(request_id)) outputs_->on_cancelled(*g, events);
    publish(events);
    kick();  // the next step frees the blocks, then RequestDone goes out
  });
}

void SchedulerState::cancel_all() {
  when_granted([this] {
    std::vector<std::string> ids;
    for (const auto* q : {&scheduler_->running(), &scheduler_->swapped(), &scheduler_->waiting()})
      for (const auto& g : *q) ids.push_back(g->request_id());
    for (const auto& id : ids) cancel(id);
  });
}

// --- the step loop -------------------------------------------------------------

void SchedulerState::step() {
  step_queued_ = false;
  if (granting_ || in_flight_ || !scheduler_->has_work()) return;
  granting_ = true;
  // A failed request means the block manager ended: the router, which
  // monitors it, ends every request.
  self_->request(blocks_, caf::infinite, plan_atom_v, scheduler_->memory_request(next_step_id_++))
      .then([this](engine::MemoryGrant& grant) { granted(grant); }, [](caf::error&) {});
}

void SchedulerState::granted(engine::MemoryGrant& grant) {
  granting_ = false;
  auto out = scheduler_->apply(grant);
  std::vector<engine::Event> events;
  outputs_->on_scheduled(out, events);
  if (grant.executes) {
    count_iteration_tokens(out.num_batched_tokens());
    in_flight_ = std::move(out);
    in_flight_step_id_ = grant.step_id;
    in_flight_since_ = std::chrono::steady_clock::now();
  }
  publish(events);
  for (auto& f : std::exchange(deferred_, {})) f();
  kick();
}

void SchedulerState::executed(engine::StepResult& result) {
  if (!armed_failure_.empty()) throw std::runtime_error(armed_failure_);
  if (!in_flight_ || result.step_id != in_flight_step_id_)
    throw std::logic_error("the result of step " + std::to_string(result.step_id) + " arrived for no step in flight");
  std::vector<engine::Event> events;
  outputs_->on_executed(*in_flight_, result, *scheduler_, events);
  in_flight_.reset();
  auto latency = outputs_->take_latency_samples();
  keep_recent(ttft_seconds_, latency.time_to_first_token);
  keep_recent(inter_token_seconds_, latency.inter_token);
  // Ask for the next step's memory before handing out this one's events:
  // the block manager grants while the router delivers.
  if (!step_queued_) step();
  publish(events);
}

void SchedulerState::count_iteration_tokens(int tokens) {
  std::size_t bucket = 0;
  while (bucket < kIterationTokenBounds.size() && tokens > kIterationTokenBounds[bucket]) ++bucket;
  ++iteration_tokens_counts_[bucket];
  iteration_tokens_sum_ += tokens;
}

bool SchedulerState::answers() const {
  return !in_flight_ || std::chrono::steady_clock::now() - in_flight_since_ < kStepStallLimit;
}

// The router ended: nobody delivers events any more.
void SchedulerState::on_down(const caf::down_msg& down) {
  if (down.reason == caf::exit_reason::user_shutdown) return self_->quit(down.reason);  // the engine stops
  const std::string reason = describe(down.reason);
  if (config_.health->mark_dead(reason) && config_.on_router_down) config_.on_router_down(reason);
  self_->quit(down.reason);
}

// --- read-only queries -----------------------------------------------------------

void SchedulerState::fill_metrics(EngineMetrics& m, const BlockStats& blocks) const {
  const auto& s = blocks.stats;
  m.gpu_blocks_total = s.gpu.num_total;
  m.gpu_blocks_used = s.gpu.num_used;
  m.gpu_blocks_cached = s.gpu.num_cached;
  m.gpu_blocks_peak_used = blocks.peak_gpu_blocks_used;
  m.cpu_blocks_total = s.cpu.num_total;
  m.cpu_blocks_used = s.cpu.num_used;
  m.kv_utilization = s.utilization();
  m.prefix_queries = s.num_prefix_queries;
  m.prefix_hits = s.num_prefix_hits;
  m.num_cow_copies = s.num_cow_copies;
  m.ttft_seconds.assign(ttft_seconds_.begin(), ttft_seconds_.end());
  m.inter_token_seconds.assign(inter_token_seconds_.begin(), inter_token_seconds_.end());
  m.iteration_tokens_counts = iteration_tokens_counts_;
  m.iteration_tokens_sum = iteration_tokens_sum_;
}

caf::typed_response_promise<EngineMetrics> SchedulerState::metrics() {
  auto rp = self_->make_response_promise<EngineMetrics>();
  when_granted([this, rp]() mutable {
    EngineMetrics m;
    m.num_running = static_cast<int>(scheduler_->running().size());
    m.num_waiting = static_cast<int>(scheduler_->waiting().size());
    m.num_swapped = static_cast<int>(scheduler_->swapped().size());
    const auto& c = scheduler_->counters();
    m.num_preemptions_swap = c.num_preemptions_swap;
    m.num_preemptions_recompute = c.num_preemptions_recompute;
    m.prompt_tokens_total = c.num_prefill_tokens;
    m.generation_tokens_total = num_tokens_generated_;
    m.requests_finished = num_requests_finished_;
    m.num_steps = c.num_steps;
    self_->request(blocks_, caf::infinite, stats_atom_v)
        .then(
            [this, rp, m](BlockStats& blocks) mutable {
              fill_metrics(m, blocks);
              rp.deliver(std::move(m));
            },
            [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  });
  return rp;
}

caf::typed_response_promise<AdminSnapshot> SchedulerState::admin(const AdminQuery& query) {
  auto rp = self_->make_response_promise<AdminSnapshot>();
  when_granted([this, rp, query]() mutable {
    if (auto snapshot = scheduler_snapshot(query, *scheduler_)) {
      rp.deliver(std::move(*snapshot));
      return;
    }
    rp.delegate(blocks_, admin_atom_v, query, seq_owners(*scheduler_));
  });
  return rp;
}

// --- the actor --------------------------------------------------------------------

namespace {

scheduler_actor::behavior_type scheduler(scheduler_actor::stateful_pointer<SchedulerState> self,
                                         SchedulerActorConfig config, router_actor router, block_manager_actor blocks,
                                         executor_actor executor) {
  self->state.init(std::move(config), std::move(router), std::move(blocks), std::move(executor));
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::scheduling_failed, e); });
  self->set_down_handler([self](caf::down_msg& down) { self->state.on_down(down); });
  return {
      [=](step_atom) { self->state.step(); },
      [=](executed_atom, engine::StepResult& result) { self->state.executed(result); },
      [=](submit_atom, GenerateRequest& request) { self->state.submit(request); },
      [=](cancel_atom, const std::string& id) { self->state.cancel(id); },
      [=](cancel_all_atom) { self->state.cancel_all(); },
      [=](metrics_atom) { return self->state.metrics(); },
      [=](admin_atom, const AdminQuery& query) { return self->state.admin(query); },
      [=](ping_atom) { return self->state.answers(); },
      [=](fail_atom, const std::string& why) { self->state.arm_failure(why); },
  };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& system, SchedulerActorConfig config, router_actor router,
                                block_manager_actor blocks, executor_actor executor) {
  return system.spawn(scheduler, std::move(config), std::move(router), std::move(blocks), std::move(executor));
}

}  // namespace pagedserve::actors
