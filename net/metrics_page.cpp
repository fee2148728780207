#include "net/metrics_page.hpp"

#include "net/process_metrics.hpp"
#include "net/prometheus.hpp"

namespace pagedserve::net {

namespace {

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

void engine_gauges(MetricsText& t, const actors::EngineMetrics& m) {
  t.metric("pagedserve_num_requests_running", "gauge", "Requests whose sequences are in the running batch.",
           m.num_running);
  t.metric("pagedserve_num_requests_waiting", "gauge", "Requests waiting to be scheduled.", m.num_waiting);
  t.metric("pagedserve_num_requests_swapped", "gauge", "Requests preempted with their KV blocks swapped to CPU memory.",
           m.num_swapped);

  // One family per quantity, so each one's series (one per pool) sum to
  // something: blocks in use in all pools, and so on.
  t.family("pagedserve_kv_blocks_capacity", "gauge", "KV cache blocks in each pool.");
  t.sample("pagedserve_kv_blocks_capacity", m.gpu_blocks_total, {{"pool", "gpu"}});
  t.sample("pagedserve_kv_blocks_capacity", m.cpu_blocks_total, {{"pool", "cpu"}});
  t.family("pagedserve_kv_blocks_used", "gauge", "KV cache blocks held by sequences, per pool.");
  t.sample("pagedserve_kv_blocks_used", m.gpu_blocks_used, {{"pool", "gpu"}});
  t.sample("pagedserve_kv_blocks_used", m.cpu_blocks_used, {{"pool", "cpu"}});
  t.family("pagedserve_kv_blocks_free", "gauge", "KV cache blocks free to allocate, per pool (cached ones included).");
  t.sample("pagedserve_kv_blocks_free", m.gpu_blocks_total - m.gpu_blocks_used, {{"pool", "gpu"}});
  t.sample("pagedserve_kv_blocks_free", m.cpu_blocks_total - m.cpu_blocks_used, {{"pool", "cpu"}});
  t.family("pagedserve_kv_blocks_cached", "gauge", "Free KV cache blocks still holding a reusable prompt prefix.");
  t.sample("pagedserve_kv_blocks_cached", m.gpu_blocks_cached, {{"pool", "gpu"}});
  t.family("pagedserve_kv_blocks_peak_used", "gauge", "The most GPU-pool KV blocks in use at once since start.");
  t.sample("pagedserve_kv_blocks_peak_used", m.gpu_blocks_peak_used, {{"pool", "gpu"}});
  t.family("pagedserve_kv_cache_usage_ratio", "gauge", "Fraction of each KV pool's blocks in use (0..1).");
  t.sample("pagedserve_kv_cache_usage_ratio", ratio(m.gpu_blocks_used, m.gpu_blocks_total), {{"pool", "gpu"}});
  t.sample("pagedserve_kv_cache_usage_ratio", ratio(m.cpu_blocks_used, m.cpu_blocks_total), {{"pool", "cpu"}});
  t.metric("pagedserve_kv_utilization_ratio", "gauge",
           "Token slots holding real tokens over slots in used blocks (1 - internal fragmentation).", m.kv_utilization);
}

void engine_counters(MetricsText& t, const actors::EngineMetrics& m) {
  t.family("pagedserve_preemptions_total", "counter", "Sequence groups preempted, by mode.");
  t.sample("pagedserve_preemptions_total", static_cast<double>(m.num_preemptions_swap), {{"mode", "swap"}});
  t.sample("pagedserve_preemptions_total", static_cast<double>(m.num_preemptions_recompute), {{"mode", "recompute"}});
  t.metric("pagedserve_prefix_cache_queries_total", "counter", "Full prompt blocks looked up in the prefix cache.",
           static_cast<double>(m.prefix_queries));
  t.metric("pagedserve_prefix_cache_hits_total", "counter", "Prefix cache lookups that found the block.",
           static_cast<double>(m.prefix_hits));
  t.metric("pagedserve_cow_copies_total", "counter", "Shared KV blocks copied before a write (copy-on-write).",
           static_cast<double>(m.num_cow_copies));
  t.metric("pagedserve_prompt_tokens_total", "counter",
           "Prompt tokens run through the model (prefix-cache hits excluded).",
           static_cast<double>(m.prompt_tokens_total));
  t.metric("pagedserve_generation_tokens_total", "counter", "Tokens generated.",
           static_cast<double>(m.generation_tokens_total));
  t.metric("pagedserve_requests_finished_total", "counter", "Requests the engine has finished (any reason).",
           static_cast<double>(m.requests_finished));
  t.metric("pagedserve_engine_steps_total", "counter", "Model steps the engine has run.",
           static_cast<double>(m.num_steps));
}

void server_series(MetricsText& t, ServerStats& s) {
  t.histogram("pagedserve_time_to_first_token_seconds", "Time from a request's arrival to its first token.",
              s.time_to_first_token.snapshot());
  t.histogram("pagedserve_inter_token_latency_seconds", "Time between consecutive tokens of one sample.",
              s.inter_token_latency.snapshot());
  t.family("pagedserve_http_responses_total", "counter", "HTTP responses sent, by status class.");
  t.sample("pagedserve_http_responses_total", static_cast<double>(s.http_responses_2xx.load()), {{"code", "2xx"}});
  t.sample("pagedserve_http_responses_total", static_cast<double>(s.http_responses_4xx.load()), {{"code", "4xx"}});
  t.sample("pagedserve_http_responses_total", static_cast<double>(s.http_responses_5xx.load()), {{"code", "5xx"}});
  t.family("pagedserve_requests_cancelled_total", "counter", "Requests the server cancelled, by cause.");
  t.sample("pagedserve_requests_cancelled_total", static_cast<double>(s.cancelled_by_client.load()),
           {{"cause", "client"}});
  t.sample("pagedserve_requests_cancelled_total", static_cast<double>(s.cancelled_slow_reader.load()),
           {{"cause", "slow_reader"}});
  t.metric("pagedserve_open_connections", "gauge", "Open HTTP connections (WebSockets included).",
           s.open_connections.load());
  t.metric("pagedserve_open_websockets", "gauge", "Open WebSocket connections on /v1/stream.",
           s.open_websockets.load());
}

}  // namespace

std::string render_metrics(const actors::EngineMetrics* engine, ServerStats& stats, const MetricsAbout& about) {
  MetricsText t;
  t.metric("pagedserve_model_ready", "gauge", "1 once the model has loaded and requests are served.", engine ? 1 : 0);
  if (engine) {
    engine_gauges(t, *engine);
    engine_counters(t, *engine);
  }
  server_series(t, stats);
  vllm_series(t, engine, stats, about);
  t.family("pagedserve_build_info", "gauge", "The running build: its version.");
  t.sample("pagedserve_build_info", 1, {{"version", PAGEDSERVE_VERSION}});
  process_series(t);
  return t.str();
}

}  // namespace pagedserve::net
