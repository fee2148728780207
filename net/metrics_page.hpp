#pragma once
// GET /metrics: the engine's gauges and counters and the server's own
// latency histograms in the Prometheus text format, as pagedserve_* and as
// vLLM's vllm:* families; process_* and the build.

#include <string>

#include "actors/engine.hpp"
#include "net/server_context.hpp"
#include "net/vllm_metrics.hpp"

namespace pagedserve::net {

// `engine` is null while the model loads (only the server's series then).
std::string render_metrics(const actors::EngineMetrics* engine, ServerStats& stats, const MetricsAbout& about = {});

}  // namespace pagedserve::net
