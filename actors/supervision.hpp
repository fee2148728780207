#pragma once
// Ending the open requests of a dead engine. The router does it while it
// lives (it holds every sink and knows which samples already finished);
// when the router itself ended, the facade does it from its own list.

#include <string>
#include <vector>

#include "actors/engine.hpp"

namespace pagedserve::actors {

// A request whose sink still waits for its end.
struct OpenRequest {
  std::shared_ptr<RequestSink> sink;
  std::vector<bool> finished;  // per returned sample
};

// Sends every unfinished sample `finish_reason: "error"` with `message`,
// then RequestDone. A sink that throws is skipped: the others still end.
void end_with_error(const std::string& request_id, OpenRequest& open, const std::string& message);

}  // namespace pagedserve::actors
