#include "actors/scheduler_actor.hpp"

#include "actors/admin_view.hpp"

namespace pagedserve::actors {

namespace {

constexpr std::size_t kLatencySamples = 1024;

void keep_recent(std::deque<double>& ring, const std::vector<double>& samples) {
  for (double s : samples) ring.push_back(s);
  while (ring.size() > kLatencySamples) ring.pop_front();
}

}  // namespace

void SchedulerState::init(SchedulerActorConfig config, router_actor router, block_manager_actor blocks,
                          executor_actor executor) {
  config_ = std::move(config);
  scheduler_ = std::make_shared<engine::Scheduler>(config_.scheduler);
  outputs_ = std::make_unique<engine::OutputProcessor>(config_.tokenizer, config_.eos_ids, config_.max_model_len);
  router_ = std::move(router);
  blocks_ = std::move(blocks);
  executor_ = std::move(executor);
}

void SchedulerState::when_home(std::function<void()> f) {
  if (scheduler_) {
    f();
  } else {
    deferred_.push_back(std::move(f));
  }
}

void SchedulerState::kick() {
  if (step_queued_ || busy_ || !scheduler_ || !scheduler_->has_work()) return;
  step_queued_ = true;
  self_->send(self_, step_atom_v);
}

void SchedulerState::publish(std::vector<engine::Event>& events) {
  if (scheduler_) config_.gauges->num_waiting = static_cast<int>(scheduler_->waiting().size());
  if (events.empty()) return;
  for (const auto& e : events) {
    num_tokens_generated_ += std::holds_alternative<TokenEvent>(e);
    num_requests_finished_ += std::holds_alternative<RequestDone>(e);
  }
  self_->send(router_, events_atom_v, EventsMsg{std::make_shared<std::vector<engine::Event>>(std::move(events))});
  events.clear();
}

void SchedulerState::submit(SubmitMsg& msg) {
  auto request = std::move(msg.request);
  when_home([this, request] {
    --config_.gauges->num_in_transit;
    std::vector<engine::Event> events;
    outputs_->add_request(std::move(*request), *scheduler_, events);
    publish(events);
    kick();
  });
}

void SchedulerState::cancel(const std::string& request_id) {
  when_home([this, request_id] {
    std::vector<engine::Event> events;
    if (auto g = scheduler_->abort(request_id)) outputs_->on_cancelled(*g, events);
    publish(events);
    kick();  // the next plan frees the blocks, then RequestDone goes out
  });
}

void SchedulerState::cancel_all() {
  when_home([this] {
    std::vector<std::string> ids;
    for (const auto* q : {&scheduler_->running(), &scheduler_->swapped(), &scheduler_->waiting()})
      for (const auto& g : *q) ids.push_back(g->request_id());
    for (const auto& id : ids) cancel(id);
  });
}

// --- the step loop -------------------------------------------------------------

void SchedulerState::step() {
  step_queued_ = false;
  if (busy_ || !scheduler_ || !scheduler_->has_work()) return;
  busy_ = true;
  config_.gauges->num_waiting = static_cast<int>(scheduler_->waiting().size());  // while the policy is away
  PlanRequest loan{std::move(scheduler_), next_step_id_++};
  scheduler_ = nullptr;
  // The answer is the step's result (the executor answers for the block
  // manager); the policy comes back before it in a `planned` message.
  self_->request(blocks_, caf::infinite, plan_atom_v, std::move(loan))
      .then([this](StepResultMsg& msg) { when_home([this, msg]() mutable { on_executed(msg); }); },
            [this](caf::error& e) {
              StepResultMsg failed;
              failed.error = "the step was lost: " + to_string(e);
              when_home([this, failed]() mutable { on_executed(failed); });
            });
}

void SchedulerState::planned(PlanReply& reply) {
  scheduler_ = std::move(reply.scheduler);
  if (!reply.error.empty()) {
    fail_all(reply.error);
  } else {
    std::vector<engine::Event> events;
    outputs_->on_scheduled(*reply.step.output, events);
    publish(events);
    if (reply.step.plan->has_work()) in_flight_ = reply.step.output;
  }
  for (auto& f : std::exchange(deferred_, {})) f();
}

void SchedulerState::on_executed(StepResultMsg& msg) {
  std::vector<engine::Event> events;
  if (in_flight_ && msg.result) {
    outputs_->on_executed(*in_flight_, *msg.result, *scheduler_, events);
  } else if (in_flight_) {
    outputs_->on_failed(*in_flight_, "the model step failed: " + msg.error, *scheduler_, events);
  }
  in_flight_.reset();
  auto latency = outputs_->take_latency_samples();
  keep_recent(ttft_seconds_, latency.time_to_first_token);
  keep_recent(inter_token_seconds_, latency.inter_token);
  busy_ = false;
  // Plan the next step before handing out this one's events: with one
  // worker the block manager then plans while the router delivers.
  if (!step_queued_) step();
  publish(events);
}

void SchedulerState::fail_all(const std::string& error) {
  std::vector<engine::Event> events;
  std::vector<std::shared_ptr<engine::SequenceGroup>> groups;
  for (const auto* q : {&scheduler_->running(), &scheduler_->swapped(), &scheduler_->waiting()})
    groups.insert(groups.end(), q->begin(), q->end());
  for (const auto& g : groups)
    if (scheduler_->abort(g->request_id())) outputs_->on_cancelled(*g, events);
  for (auto& e : events)
    if (auto* f = std::get_if<SampleFinished>(&e)) {
      f->finish_reason = "error";
      f->error = error;
    }
  publish(events);
  kick();
}

// --- read-only queries -----------------------------------------------------------

void SchedulerState::fill_metrics(EngineMetrics& m, const BlockStatsMsg& blocks) const {
  const auto& s = *blocks.stats;
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
}

caf::typed_response_promise<MetricsMsg> SchedulerState::metrics() {
  auto rp = self_->make_response_promise<MetricsMsg>();
  when_home([this, rp]() mutable {
    auto m = std::make_shared<EngineMetrics>();
    m->num_running = static_cast<int>(scheduler_->running().size());
    m->num_waiting = static_cast<int>(scheduler_->waiting().size());
    m->num_swapped = static_cast<int>(scheduler_->swapped().size());
    const auto& c = scheduler_->counters();
    m->num_preemptions_swap = c.num_preemptions_swap;
    m->num_preemptions_recompute = c.num_preemptions_recompute;
    m->prompt_tokens_total = c.num_prefill_tokens;
    m->generation_tokens_total = num_tokens_generated_;
    m->requests_finished = num_requests_finished_;
    m->num_steps = c.num_steps;
    self_->request(blocks_, caf::infinite, stats_atom_v)
        .then([this, rp, m](BlockStatsMsg& blocks) mutable {
          fill_metrics(*m, blocks);
          rp.deliver(MetricsMsg{m});
        },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  });
  return rp;
}

caf::typed_response_promise<std::string> SchedulerState::admin(const std::string& view) {
  auto rp = self_->make_response_promise<std::string>();
  when_home([this, rp, view]() mutable {
    if (auto json = scheduler_view(view, *scheduler_)) {
      rp.deliver(std::move(*json));
      return;
    }
    auto owners = std::make_shared<std::vector<SeqOwner>>(seq_owners(*scheduler_));
    rp.delegate(blocks_, admin_atom_v, view, SeqOwnersMsg{owners});
  });
  return rp;
}

// --- the actor --------------------------------------------------------------------

namespace {

scheduler_actor::behavior_type scheduler(scheduler_actor::stateful_pointer<SchedulerState> self,
                                         SchedulerActorConfig config, router_actor router, block_manager_actor blocks,
                                         executor_actor executor) {
  self->state.init(std::move(config), std::move(router), std::move(blocks), std::move(executor));
  return {
      [=](step_atom) { self->state.step(); },
      [=](planned_atom, PlanReply& reply) { self->state.planned(reply); },
      [=](submit_atom, SubmitMsg& msg) { self->state.submit(msg); },
      [=](cancel_atom, const std::string& id) { self->state.cancel(id); },
      [=](cancel_all_atom) { self->state.cancel_all(); },
      [=](metrics_atom) { return self->state.metrics(); },
      [=](admin_atom, const std::string& view) { return self->state.admin(view); },
  };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& system, SchedulerActorConfig config, router_actor router,
                                block_manager_actor blocks, executor_actor executor) {
  return system.spawn(scheduler, std::move(config), std::move(router), std::move(blocks), std::move(executor));
}

}  // namespace pagedserve::actors
