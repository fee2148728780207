// `pagedserve bench serving`: a trace of requests through the engine on one
// device, all submitted at once (offline throughput): requests/s, tokens/s,
// KV utilization and preemptions.

#include <chrono>
#include <cstdio>
#include <random>

#include "actors/engine_start.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/bench.hpp"
#include "engine/generator.hpp"
#include "sim/trace.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kUsage = R"(usage: pagedserve bench serving [MODEL] [options]

  --trace sharegpt|alpaca|FILE (default sharegpt; lengths clipped to the model)
  --num-requests N             (default 1000)
  --seed S  --json

engine settings (as for serve; here --model defaults to dummy:stories15M,
--max-num-batched-tokens to 8192, and --num-gpu-blocks 0 is 4096 blocks on
the CPU, sized from memory on a GPU):
)";

// The benchmark's own defaults, under the flags.
Settings bench_defaults() {
  Settings s;
  s.set_from_text("model", "dummy:stories15M");
  s.set_from_text("max_num_batched_tokens", "8192");
  return s;
}

// The generator of the engine's settings, its pools sized as the engine
// sizes them.
engine::GeneratorConfig generator_config(actors::EngineConfig c, model::LlamaModel& llama, int max_len) {
  if (c.num_gpu_blocks == 0 && c.device == "cpu") c.num_gpu_blocks = 4096;
  const auto sizes = actors::size_kv_pools(c, llama, max_len);
  engine::GeneratorConfig gc;
  gc.blocks.block_size = c.block_size;
  gc.blocks.num_gpu_blocks = sizes.num_gpu_blocks;
  gc.blocks.num_cpu_blocks = sizes.num_cpu_blocks;
  gc.blocks.enable_prefix_caching = c.enable_prefix_caching;
  gc.blocks.watermark = c.watermark;
  gc.blocks.max_model_len = c.max_model_len;
  gc.max_num_seqs = c.max_num_seqs;
  gc.max_num_batched_tokens = c.max_num_batched_tokens;
  gc.preemption_mode = c.preemption_mode;
  gc.track_utilization = true;
  return gc;
}


}  // namespace

int run_bench_serving(int argc, char** argv) {
  const auto command = read_bench_command_line(argc, argv, kUsage, {"trace", "num-requests", "seed"}, {"json"}, bench_defaults());
  if (!command) return 0;
  const auto& [args, config] = *command;
  model::LoadOptions load;
  load.tokenizer_path = config.tokenizer;
  // Dummy weights are stored as --dtype says (f16 for auto); a checkpoint's own.
  load.dummy_dtype = kernels::parse_dtype(config.dtype).value_or(kernels::DType::f16);
  auto loaded = model::load_model(config.model, load);
  const int max_len = config.max_model_len > 0 ? std::min(config.max_model_len, loaded.config.max_seq_len)
                                               : loaded.config.max_seq_len;
  const auto seed = static_cast<std::uint64_t>(args.get_int("seed", 1, 0, INT64_MAX));
  const int n = static_cast<int>(args.get_int("num-requests", 1000, 1, 1000000));
  const std::string trace_name = args.get_or("trace", "sharegpt");
  auto trace = trace_name == "sharegpt" ? sim::sharegpt_like(n, max_len, seed)
               : trace_name == "alpaca" ? sim::alpaca_like(n, max_len, seed)
                                        : sim::load_trace_file(trace_name, max_len);
  auto backend = kernels::make_backend(config.device, actors::backend_options(config, loaded.weights.token_embedding.dtype));
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  const auto gc = generator_config(config, llama, max_len);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  std::vector<engine::GenerationRequest> requests;
  std::int64_t prompt_tokens = 0;
  for (const auto& t : trace) {
    engine::GenerationRequest r;
    r.prompt_ids.push_back(loaded.config.bos_id);
    for (int i = 1; i < t.input_len; ++i) r.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % (loaded.config.vocab_size - 3)));
    r.params.temperature = 0;
    r.params.ignore_eos = true;  // every request produces exactly its trace length
    r.params.max_tokens = t.output_len;
    prompt_tokens += t.input_len;
    requests.push_back(std::move(r));
  }
  engine::Generator gen(llama, nullptr, gc);
  const auto t0 = std::chrono::steady_clock::now();
  gen.generate(requests);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& st = gen.stats();
  net::JsonWriter w;
  w.begin_object().field("model", config.model).field("device", backend->name());
  w.field("trace", trace_name).field("requests", n).field("num_gpu_blocks", gc.blocks.num_gpu_blocks);
  w.field("block_size", gc.blocks.block_size).field("seconds", seconds).field("requests_per_s", n / seconds);
  w.field("generated_tokens_per_s", static_cast<double>(st.num_generated_tokens) / seconds);
  w.field("total_tokens_per_s", static_cast<double>(st.num_generated_tokens + prompt_tokens) / seconds);
  w.field("kv_utilization", st.utilization()).field("preemptions", static_cast<std::int64_t>(st.num_preemptions));
  w.field("steps", static_cast<std::int64_t>(st.num_steps)).field("max_running", st.max_running).end_object();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

}  // namespace pagedserve::cli
