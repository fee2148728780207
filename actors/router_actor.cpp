// The request router: keeps each request's RequestSink, forwards submits and
// cancels to the scheduler, and delivers the scheduler's events to the sinks
// (off the scheduler's thread, so slow sinks never delay a step).

#include "actors/runtime.hpp"

#include <unordered_map>

namespace pagedserve::actors {

namespace {

struct RouterState {
  std::unordered_map<std::string, std::shared_ptr<RequestSink>> sinks;
  scheduler_actor scheduler;
  std::function<void(const std::string&)> on_done;
  static inline const char* name = "router";
};

struct DroppedSink final : RequestSink {
  void on_token(const TokenEvent&) override {}
  void on_sample_finished(const SampleFinished&) override {}
  void on_done(const RequestDone&) override {}
};

void call_sink(RequestSink& sink, const engine::Event& e) {
  if (auto* t = std::get_if<TokenEvent>(&e)) {
    sink.on_token(*t);
  } else if (auto* f = std::get_if<SampleFinished>(&e)) {
    sink.on_sample_finished(*f);
  } else {
    sink.on_done(std::get<RequestDone>(e));
  }
}

// A sink that throws is dropped: its request still runs to the end.
void deliver(RouterState& st, const engine::Event& e) {
  auto it = st.sinks.find(engine::request_id_of(e));
  if (it == st.sinks.end()) return;
  const bool done = std::holds_alternative<RequestDone>(e);
  try {
    call_sink(*it->second, e);
  } catch (const std::exception&) {
    it->second = std::make_shared<DroppedSink>();
  }
  if (!done) return;
  st.sinks.erase(it);
  if (st.on_done) st.on_done(engine::request_id_of(e));
}

router_actor::behavior_type router(router_actor::stateful_pointer<RouterState> self,
                                   std::function<void(const std::string&)> on_done) {
  self->state.on_done = std::move(on_done);
  return {
      [=](connect_atom, scheduler_actor scheduler) { self->state.scheduler = std::move(scheduler); },
      [=](submit_atom, SubmitMsg& msg) {
        self->state.sinks[msg.request->request_id] = std::move(msg.sink);
        self->send(self->state.scheduler, submit_atom_v, SubmitMsg{std::move(msg.request), nullptr});
      },
      [=](cancel_atom, const std::string& id) { self->send(self->state.scheduler, cancel_atom_v, id); },
      [=](events_atom, const EventsMsg& msg) {
        for (const auto& e : *msg.events) deliver(self->state, e);
      },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, std::function<void(const std::string&)> on_done) {
  return system.spawn(router, std::move(on_done));
}

}  // namespace pagedserve::actors
