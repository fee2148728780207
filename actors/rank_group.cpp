#include "actors/rank_group.hpp"

#include <deque>
#include <stdexcept>

#include "actors/runtime.hpp"
#include "engine/parallel_executor.hpp"

namespace pagedserve::actors {

namespace {

struct RankGroupState {
  std::vector<RankExecutor> ranks;
  int first_sampling = 0;
  step_results_actor results;
  std::vector<std::deque<engine::StepResult>> answered;  // per rank, the steps not yet passed on
  std::string armed_failure;  // a test's: thrown at the next step
  static inline const char* name = "rank_group";
};

using Self = executor_actor::stateful_pointer<RankGroupState>;

int rank_of(Self self, const caf::actor_addr& who) {
  const auto& ranks = self->state.ranks;
  for (std::size_t i = 0; i < ranks.size(); ++i)
    if (ranks[i].executor.address() == who) return static_cast<int>(i);
  return -1;
}

// Every rank has answered the oldest step: pass it on.
void pass_on_whole_steps(Self self) {
  auto& st = self->state;
  for (;;) {
    for (const auto& q : st.answered)
      if (q.empty()) return;
    const auto first = static_cast<std::size_t>(st.first_sampling);
    for (std::size_t r = first + 1; r < st.answered.size(); ++r)
      engine::ParallelExecutor::check_same_draws(st.answered[first].front(), st.answered[r].front(), static_cast<int>(r));
    engine::StepResult result = std::move(st.answered[first].front());
    for (auto& q : st.answered) q.pop_front();
    self->send(st.results, executed_atom_v, std::move(result));
  }
}

executor_actor::behavior_type rank_group(Self self, std::vector<RankExecutor> ranks, int first_sampling) {
  auto& st = self->state;
  st.ranks = std::move(ranks);
  st.first_sampling = first_sampling;
  st.answered.resize(st.ranks.size());
  for (const auto& r : st.ranks) self->monitor(r.executor);
  self->set_exception_handler([](std::exception_ptr& e) { return failure_reason(engine_errc::step_failed, e); });
  self->set_down_handler([self](caf::down_msg& down) {
    const int r = rank_of(self, down.source);
    if (r < 0) return self->quit(down.reason);  // the scheduler
    self->quit(caf::make_error(engine_errc::rank_failed, "rank " + std::to_string(r) + " (" +
                                                             self->state.ranks[static_cast<std::size_t>(r)].where +
                                                             "): " + describe(down.reason)));
  });
  // However the group ends, the ranks' executors end with it (and free
  // their workers for the next server).
  self->attach_functor([executors = st.ranks](const caf::error& reason) {
    const caf::error why = reason ? reason : caf::make_error(caf::exit_reason::user_shutdown);
    for (const auto& r : executors)
      if (r.executor) r.executor->enqueue(nullptr, caf::make_message_id(), caf::make_message(caf::exit_msg{r.executor.address(), why}), nullptr);
  });
  return {
      [=](connect_atom, step_results_actor results) {
        self->monitor(results);
        self->state.results = std::move(results);
        for (const auto& r : self->state.ranks)
          self->send(r.executor, connect_atom_v, caf::actor_cast<step_results_actor>(self));
      },
      [=](execute_atom, engine::StepPlan& plan) {
        auto& st = self->state;
        if (!st.armed_failure.empty()) throw std::runtime_error(st.armed_failure);
        for (std::size_t r = 0; r + 1 < st.ranks.size(); ++r) self->send(st.ranks[r].executor, execute_atom_v, plan);
        self->send(st.ranks.back().executor, execute_atom_v, std::move(plan));
      },
      [=](executed_atom, engine::StepResult& result) {
        const int r = rank_of(self, caf::actor_cast<caf::actor_addr>(self->current_sender()));
        if (r < 0) throw std::logic_error("a step result from an actor that is not one of the group's ranks");
        self->state.answered[static_cast<std::size_t>(r)].push_back(std::move(result));
        pass_on_whole_steps(self);
      },
      [=](step_failed_atom, const std::string& what) { throw std::runtime_error(what); },
      [=](fail_atom, const std::string& why) { self->state.armed_failure = why; },
  };
}

}  // namespace

executor_actor spawn_rank_group(caf::actor_system& system, std::vector<RankExecutor> ranks, int first_sampling_rank) {
  if (ranks.empty() || first_sampling_rank < 0 || first_sampling_rank >= static_cast<int>(ranks.size()))
    throw std::invalid_argument("a rank group needs ranks, and a sampling rank among them");
  return system.spawn(rank_group, std::move(ranks), first_sampling_rank);
}

}  // namespace pagedserve::actors
