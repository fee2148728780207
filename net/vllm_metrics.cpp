#include "net/vllm_metrics.hpp"

#include <cstdio>

namespace pagedserve::net {

namespace {

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

const std::size_t kIterationBuckets = actors::kIterationTokenBounds.size() + 1;
Histogram::Snapshot iteration_tokens(const actors::EngineMetrics& m);

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Requests, KV cache and token counters from the engine; the prefix cache
// counts tokens, as vLLM's does (full blocks of block_size tokens).
void engine_series(MetricsText& t, const actors::EngineMetrics& m, const actors::EngineConfig& c, const Labels& model) {
  auto gauge = [&](const char* name, const char* help, double v) {
    t.family(name, "gauge", help);
    t.sample(name, v, model);
  };
  auto counter = [&](const char* name, const char* help, double v) {
    t.family(name, "counter", help);
    t.sample(name, v, model);
  };
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", m.num_running);
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", m.num_waiting);
  gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", m.num_swapped);
  const double gpu_usage = ratio(m.gpu_blocks_used, m.gpu_blocks_total);
  gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", gpu_usage);
  gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", gpu_usage);
  gauge("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.",
        ratio(m.cpu_blocks_used, m.cpu_blocks_total));
  counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.",
          static_cast<double>(m.prefix_queries) * c.block_size);
  counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.",
          static_cast<double>(m.prefix_hits) * c.block_size);
  counter("vllm:num_preemptions_total", "Cumulative number of preemptions from the engine.",
          static_cast<double>(m.num_preemptions_swap + m.num_preemptions_recompute));
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.",
          static_cast<double>(m.generation_tokens_total));
  t.family("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig.");
  Labels info = model;
  info.insert(info.end(), {{"block_size", std::to_string(c.block_size)},
                           {"num_gpu_blocks", std::to_string(m.gpu_blocks_total)},
                           {"num_cpu_blocks", std::to_string(m.cpu_blocks_total)},
                           {"enable_prefix_caching", c.enable_prefix_caching ? "True" : "False"},
                           {"gpu_memory_utilization", number_text(c.gpu_memory_utilization)},
                           {"swap_space", number_text(c.swap_space_gib)},
                           {"cache_dtype", "auto"}});
  t.sample("vllm:cache_config_info", 1, info);
  if (m.iteration_tokens_counts.size() == kIterationBuckets)
    t.histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", iteration_tokens(m), model);
}

// What the server measures per request: tokens, outcomes and latencies.
void request_series(MetricsText& t, ServerStats& s, const Labels& model) {
  t.family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  t.sample("vllm:prompt_tokens_total", static_cast<double>(s.prompt_tokens.load()), model);
  t.family("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  for (auto [reason, count] : {std::pair{"stop", &s.finished_stop}, std::pair{"length", &s.finished_length},
                               std::pair{"abort", &s.finished_abort}}) {
    Labels l = model;
    l.emplace_back("finished_reason", reason);
    t.sample("vllm:request_success_total", static_cast<double>(count->load()), l);
  }
  t.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
              s.time_to_first_token.snapshot(), model);
  t.histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
              s.inter_token_latency.snapshot(), model);
  t.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
              s.e2e_request_latency.snapshot(), model);
  t.histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.",
              s.request_queue_time.snapshot(), model);
}

// The engine counts steps by the tokens they ran, in vLLM's buckets.
Histogram::Snapshot iteration_tokens(const actors::EngineMetrics& m) {
  Histogram::Snapshot h;
  h.bounds = actors::kIterationTokenBounds;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < m.iteration_tokens_counts.size(); ++i) {
    running += static_cast<std::uint64_t>(m.iteration_tokens_counts[i]);
    h.cumulative.push_back(running);
  }
  h.count = running;
  h.sum = static_cast<double>(m.iteration_tokens_sum);
  return h;
}

}  // namespace

void vllm_series(MetricsText& t, const actors::EngineMetrics* engine, ServerStats& stats, const MetricsAbout& about) {
  const Labels model = {{"model_name", about.model_name}};
  if (engine && about.config) engine_series(t, *engine, *about.config, model);
  request_series(t, stats, model);
}

}  // namespace pagedserve::net
