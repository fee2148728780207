#include "actors/supervision.hpp"

#include "actors/runtime.hpp"

namespace pagedserve::actors {

std::string to_string(engine_errc x) {
  switch (x) {
    case engine_errc::step_failed: return "step_failed";
    case engine_errc::planning_failed: return "planning_failed";
    case engine_errc::scheduling_failed: return "scheduling_failed";
    case engine_errc::delivery_failed: return "delivery_failed";
    case engine_errc::worker_refused: return "worker_refused";
    case engine_errc::worker_stopped: return "worker_stopped";
    case engine_errc::rank_failed: return "rank_failed";
  }
  return "unknown";
}

bool EngineHealth::mark_dead(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (reason_) return false;
  reason_ = reason;
  dead_.store(true, std::memory_order_release);
  return true;
}

std::optional<std::string> EngineHealth::dead_reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

caf::error failure_reason(engine_errc code, std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return caf::make_error(code, std::string(x.what()));
  } catch (...) {
    return caf::make_error(code, std::string("an unknown exception"));
  }
}

std::string describe(const caf::error& e) {
  if (e == caf::exit_reason::remote_link_unreachable) return "executor_unreachable: the connection to the worker was lost";
  if (e.category() != caf::atom("pagedserve")) return caf::to_string(e);
  std::string out = to_string(static_cast<engine_errc>(e.code()));
  if (!e.context().empty() && e.context().match_element<std::string>(0)) out += ": " + e.context().get_as<std::string>(0);
  return out;
}

std::string dead_message(const std::string& reason) { return "the engine stopped working: " + reason; }

void end_with_error(const std::string& request_id, OpenRequest& open, const std::string& message) {
  try {
    for (std::size_t i = 0; i < open.finished.size(); ++i) {
      if (open.finished[i]) continue;
      open.finished[i] = true;
      open.sink->on_sample_finished({request_id, static_cast<int>(i), "error", message, 0});
    }
    RequestDone done;
    done.request_id = request_id;
    open.sink->on_done(done);
  } catch (const std::exception&) {
    // A broken sink must not keep the other requests from ending.
  }
}

}  // namespace pagedserve::actors
