#pragma once
// The vllm:* families, with vLLM's names, types and units and a model_name
// label, so dashboards, autoscalers and routers built for a vLLM
// deployment read pagedserve unchanged. They come from the same counters as
// the pagedserve_* families.

#include <string>

#include "actors/engine.hpp"
#include "net/prometheus.hpp"
#include "net/server_context.hpp"

namespace pagedserve::net {

// What the families say besides the engine's numbers.
struct MetricsAbout {
  std::string model_name;
  const actors::EngineConfig* config = nullptr;  // null while loading
};

// `engine` is null while the model loads (the server's series only then).
void vllm_series(MetricsText& t, const actors::EngineMetrics* engine, ServerStats& stats, const MetricsAbout& about);

}  // namespace pagedserve::net
