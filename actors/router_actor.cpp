// The request router: keeps each request's RequestSink, forwards submits and
// cancels to the scheduler, and delivers the scheduler's events to the sinks
// (off the scheduler's thread, so slow sinks never delay a step).
//
// It also supervises: it monitors the scheduler, the block manager and the
// executor. When one ends, the engine is dead: every open request ends with
// `finish_reason: "error"`, later submits end the same way at once, and
// events still in flight are dropped.

#include "actors/runtime.hpp"

#include <unordered_map>

#include "actors/supervision.hpp"

namespace pagedserve::actors {

namespace {

struct RouterState {
  std::unordered_map<std::string, OpenRequest> open;
  scheduler_actor scheduler;
  std::function<void(const std::string&)> on_done;
  std::shared_ptr<EngineHealth> health;
  static inline const char* name = "router";
};

struct DroppedSink final : RequestSink {
  void on_token(const TokenEvent&) override {}
  void on_sample_finished(const SampleFinished&) override {}
  void on_done(const RequestDone&) override {}
};

void call_sink(OpenRequest& open, const engine::Event& e) {
  if (auto* t = std::get_if<TokenEvent>(&e)) {
    open.sink->on_token(*t);
  } else if (auto* f = std::get_if<SampleFinished>(&e)) {
    if (f->index >= 0 && static_cast<std::size_t>(f->index) < open.finished.size())
      open.finished[static_cast<std::size_t>(f->index)] = true;
    open.sink->on_sample_finished(*f);
  } else {
    open.sink->on_done(std::get<RequestDone>(e));
  }
}

void forget(RouterState& st, std::unordered_map<std::string, OpenRequest>::iterator it) {
  const std::string id = it->first;
  st.open.erase(it);
  if (st.on_done) st.on_done(id);
}

// A sink that throws is dropped: its request still runs to the end.
void deliver(RouterState& st, const engine::Event& e) {
  auto it = st.open.find(engine::request_id_of(e));
  if (it == st.open.end()) return;
  try {
    call_sink(it->second, e);
  } catch (const std::exception&) {
    it->second.sink = std::make_shared<DroppedSink>();
  }
  if (std::holds_alternative<RequestDone>(e)) forget(st, it);
}

// The engine died: every open request ends now, with the reason.
void end_all(RouterState& st, const std::string& reason) {
  const std::string message = dead_message(reason);
  while (!st.open.empty()) {
    auto it = st.open.begin();
    end_with_error(it->first, it->second, message);
    forget(st, it);
  }
}

void on_down(router_actor::stateful_pointer<RouterState> self, const caf::down_msg& down) {
  auto& st = self->state;
  if (down.reason == caf::exit_reason::user_shutdown) return;  // the engine stops
  const std::string reason = describe(down.reason ? down.reason : caf::make_error(caf::exit_reason::normal));
  st.health->mark_dead(reason);
  end_all(st, *st.health->dead_reason());
}

void submit(RouterState& st, SubmitMsg& msg, router_actor::pointer self) {
  OpenRequest open{std::move(msg.sink), std::vector<bool>(static_cast<std::size_t>(std::max(msg.request.n, 1)), false)};
  const std::string id = msg.request.request_id;
  if (auto reason = st.health->dead_reason()) {
    st.open[id] = std::move(open);
    end_all(st, *reason);
    return;
  }
  st.open[id] = std::move(open);
  self->send(st.scheduler, submit_atom_v, std::move(msg.request));
}

router_actor::behavior_type router(router_actor::stateful_pointer<RouterState> self,
                                   std::function<void(const std::string&)> on_done, std::shared_ptr<EngineHealth> health) {
  self->state.on_done = std::move(on_done);
  self->state.health = std::move(health);
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::delivery_failed, e); });
  self->set_down_handler([self](caf::down_msg& down) { on_down(self, down); });
  return {
      [=](connect_atom, scheduler_actor scheduler) {
        self->monitor(scheduler);
        self->state.scheduler = std::move(scheduler);
      },
      [=](connect_atom, block_manager_actor blocks, executor_actor executor) {
        self->monitor(blocks);
        self->monitor(executor);
      },
      [=](submit_atom, SubmitMsg& msg) { submit(self->state, msg, self); },
      [=](cancel_atom, const std::string& id) { self->send(self->state.scheduler, cancel_atom_v, id); },
      [=](events_atom, const EventList& events) {
        if (self->state.health->dead()) return;  // ended already
        for (const auto& e : events) deliver(self->state, e);
      },
      [=](fail_atom, const std::string& why) -> void { throw std::runtime_error(why); },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, std::function<void(const std::string&)> on_done,
                          std::shared_ptr<EngineHealth> health) {
  return system.spawn(router, std::move(on_done), std::move(health));
}

}  // namespace pagedserve::actors
