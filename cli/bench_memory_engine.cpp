#include "cli/bench_memory_engine.hpp"

#include <algorithm>
#include <random>

#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"

namespace pagedserve::cli {

EngineCheck check_against_engine(const std::vector<sim::TraceRequest>& trace, const sim::SimConfig& config,
                                 const std::string& model_path, int num_requests) {
  auto loaded = model::load_model(model_path);
  const int max_len = loaded.config.max_seq_len;
  const double scale = static_cast<double>(max_len) / config.max_len;
  std::vector<sim::TraceRequest> small;
  for (int i = 0; i < std::min<int>(num_requests, static_cast<int>(trace.size())); ++i) {
    sim::TraceRequest r;
    r.input_len = std::max(1, static_cast<int>(trace[i].input_len * scale));
    r.output_len = std::clamp(static_cast<int>(trace[i].output_len * scale), 1, max_len - r.input_len);
    small.push_back(r);  // arrival 0: all at once, as the offline engine runs them
  }
  sim::SimConfig sc = config;
  sc.max_len = max_len;
  sc.kv_tokens = std::max<std::int64_t>(static_cast<std::int64_t>(config.kv_tokens * scale), max_len);
  sc.series_every = 0;
  auto sim = sim::simulate_kv(small, sim::KvSystem::paged, sc);

  auto backend = kernels::make_backend("cpu");
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  engine::GeneratorConfig gc;
  gc.blocks.block_size = sc.block_size;
  gc.blocks.num_gpu_blocks = static_cast<int>(sc.kv_tokens / sc.block_size);
  gc.blocks.max_model_len = max_len;
  gc.max_num_seqs = sc.max_num_seqs;
  gc.track_utilization = true;
  std::vector<engine::GenerationRequest> requests;
  std::mt19937 rng(7);
  for (const auto& r : small) {
    engine::GenerationRequest g;
    g.prompt_ids.push_back(loaded.config.bos_id);
    for (int i = 1; i < r.input_len; ++i) g.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % (loaded.config.vocab_size - 3)));
    g.params.temperature = 0;
    g.params.ignore_eos = true;
    g.params.max_tokens = r.output_len;
    requests.push_back(std::move(g));
  }
  engine::Generator gen(llama, nullptr, gc);
  gen.generate(requests);

  EngineCheck c;
  c.num_requests = static_cast<int>(small.size());
  c.kv_tokens = sc.kv_tokens;
  c.sim_utilization = sim.utilization;
  c.sim_preemptions = sim.num_preemptions;
  c.sim_max_running = sim.max_running;
  c.engine_utilization = gen.stats().utilization();
  c.engine_preemptions = gen.stats().num_preemptions;
  c.engine_max_running = gen.stats().max_running;
  return c;
}

}  // namespace pagedserve::cli
