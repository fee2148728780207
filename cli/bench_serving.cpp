// `pagedserve bench serving`: a trace of requests through the engine on one
// device, all submitted at once (offline throughput): requests/s, tokens/s,
// KV utilization and preemptions.

#include <chrono>
#include <cstdio>
#include <random>

#include "cli/args.hpp"
#include "cli/bench.hpp"
#include "engine/generator.hpp"
#include "engine/kv_planner.hpp"
#include "sim/trace.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench serving [options]

  --model PATH|dummy:<preset>  (default dummy:stories15M)
  --dtype f32|f16|bf16         dummy weights' type (default f16)
  --device DEV                 cpu | cuda:N (default cpu)
  --trace sharegpt|alpaca|FILE (default sharegpt; lengths clipped to the model)
  --num-requests N             (default 1000)
  --num-blocks N               KV blocks (default: sized from memory on a GPU, 4096 on cpu)
  --block-size B               (default 16)
  --gpu-memory-utilization F   (default 0.9)
  --max-num-seqs S             (default 256)   --max-num-batched-tokens T  (default 8192)
  --seed S  --json
)";

kernels::DType parse_dtype(const std::string& s) {
  if (s == "f32") return kernels::DType::f32;
  if (s == "f16") return kernels::DType::f16;
  if (s == "bf16") return kernels::DType::bf16;
  throw CliError("--dtype must be f32, f16 or bf16");
}

}  // namespace

int run_bench_serving(int argc, char** argv) {
  Args args(argc, argv, {"json", "help"});
  if (args.answered_help(kHelp)) return 0;
  args.reject_unknown({"model", "dtype", "device", "trace", "num-requests", "num-blocks", "block-size",
                       "gpu-memory-utilization", "max-num-seqs", "max-num-batched-tokens", "seed", "json", "help"});
  const std::string device = args.get_or("device", "cpu");
  model::LoadOptions load;
  load.dummy_dtype = parse_dtype(args.get_or("dtype", "f16"));
  auto loaded = model::load_model(args.get_or("model", "dummy:stories15M"), load);
  const int max_len = loaded.config.max_seq_len;
  const auto seed = static_cast<std::uint64_t>(args.get_int("seed", 1, 0, INT64_MAX));
  const int n = static_cast<int>(args.get_int("num-requests", 1000, 1, 1000000));
  const std::string trace_name = args.get_or("trace", "sharegpt");
  auto trace = trace_name == "sharegpt" ? sim::sharegpt_like(n, max_len, seed)
               : trace_name == "alpaca" ? sim::alpaca_like(n, max_len, seed)
                                        : sim::load_trace_file(trace_name, max_len);
  auto backend = kernels::make_backend(device);
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);

  engine::GeneratorConfig gc;
  gc.blocks.block_size = static_cast<int>(args.get_int("block-size", 16, 1, 1024));
  gc.max_num_seqs = static_cast<int>(args.get_int("max-num-seqs", 256, 1, 65536));
  gc.max_num_batched_tokens = static_cast<int>(args.get_int("max-num-batched-tokens", 8192, 1, 1 << 20));
  gc.track_utilization = true;
  if (args.has("num-blocks") || device == "cpu") {
    gc.blocks.num_gpu_blocks = static_cast<int>(args.get_int("num-blocks", 4096, 1, 1 << 26));
  } else {
    engine::KvPlanRequest req;
    req.gpu_memory_utilization = args.get_double("gpu-memory-utilization", 0.9, 0.05, 1.0);
    req.block_size = gc.blocks.block_size;
    req.max_num_batched_tokens = gc.max_num_batched_tokens;
    gc.blocks.num_gpu_blocks = engine::plan_kv_pools(llama, req).sizes.num_gpu_blocks;
  }
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
  w.begin_object().field("model", args.get_or("model", "dummy:stories15M")).field("device", backend->name());
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
