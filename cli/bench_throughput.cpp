// `pagedserve bench throughput`: aggregate decode tokens/s at several batch
// sizes through the real paged generation loop, against one-at-a-time
// decoding (batch 1) measured in the same run. On the CPU it also measures
// the memory bandwidth (a STREAM-like probe) and how much of it batch 1
// achieves: one decode step reads every weight once.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <random>
#include <sstream>

#include "actors/engine.hpp"
#include "actors/engine_start.hpp"
#include "cli/args.hpp"
#include "cli/bandwidth_probe.hpp"
#include "cli/command_settings.hpp"
#include "cli/bench.hpp"
#include "engine/generator.hpp"
#include "engine/parallel_executor.hpp"
#include "kernels/backend.hpp"
#include "kernels/cpu/cpu_ops.hpp"
#include "model/loader.hpp"
#include "model/pipeline_parallel.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench throughput [MODEL] [options]

  --batch LIST       batch sizes, comma separated (default 1,8,32,64)
  --prompt-len N     prompt tokens per sequence (default 16)
  --tokens N         new tokens per sequence (default 64)
  --repeat R         runs per batch size; the median is reported (default 3)
  --isa scalar|avx2|avx512  cpu: the GEMV path (default: the best this CPU runs)
  --gemv-up-to N     cpu: GEMMs of up to N rows use the GEMV kernels (default 8)
  --no-probe         skip the memory bandwidth probe
  --json             one JSON line

engine settings (as for serve; here --model defaults to dummy:stories15M; the
model, device, dtype, attention kernel, block size, --tensor-parallel-size
and --pipeline-parallel-size apply, the pool is sized to the batch):
)";

Settings bench_defaults() {
  Settings s;
  s.set_from_text("model", "dummy:stories15M");
  return s;
}

// Where the ranks of a split model waited, per step of a run.
struct SplitTime {
  double collective_ms = 0;  // in all-reduces and gathers (transfer and the wait for the slowest), mean over ranks
  double receive_ms = 0;     // waiting for the stage before, mean over ranks (0 for the first stage's)
  double idle_fraction = 0;  // of all ranks' step time: receive waits and waits for the step's slowest rank
};

struct Run {
  int batch = 0;
  double seconds = 0;
  double tokens_per_s = 0;
  double cpu_seconds = 0;  // CPU time of every thread over the same span
  std::optional<SplitTime> split;  // a model split over ranks
};

// A generator over the pools a config describes, and for a split model
// where its ranks waited so far.
struct MadeGenerator {
  std::unique_ptr<engine::Generator> generator;
  std::function<SplitTime()> split_time;
};
using MakeGenerator = std::function<MadeGenerator(const engine::GeneratorConfig& config)>;

SplitTime split_time_of(const engine::ParallelExecutor& executor, const kernels::SplitWaits& waits) {
  const auto t = executor.times();
  SplitTime out;
  if (t.steps == 0 || t.step_seconds <= 0) return out;
  const int ranks = waits.ranks();
  double collective = 0, receive = 0, idle = 0;
  for (int r = 0; r < ranks; ++r) {
    collective += waits.collective_seconds(r);
    receive += waits.receive_seconds(r);
    idle += waits.receive_seconds(r) + (t.step_seconds - t.rank_seconds[r]);
  }
  const double per_step = 1e3 / ranks / static_cast<double>(t.steps);
  out.collective_ms = collective * per_step;
  out.receive_ms = receive * per_step;
  out.idle_fraction = idle / (ranks * t.step_seconds);
  return out;
}

// Over `llama` alone, or, with tensor or pipeline parallelism, over the
// model split as the settings say (built anew for each run's pools).
MakeGenerator generator_maker(const actors::EngineConfig& settings, const model::LoadedModel& loaded,
                              model::LlamaModel& llama) {
  if (settings.tensor_parallel_size == 1 && settings.pipeline_parallel_size == 1)
    return [&llama](const engine::GeneratorConfig& c) {
      return MadeGenerator{std::make_unique<engine::Generator>(llama, nullptr, c), nullptr};
    };
  return [&settings, &loaded](const engine::GeneratorConfig& c) {
    const actors::KvPoolSizes pools{c.blocks.num_gpu_blocks, c.blocks.num_cpu_blocks};
    auto built = actors::build_parallel_executor(settings, loaded.config, loaded.weights,
                                                 [&](model::LlamaModel&) { return pools; }, nullptr);
    auto parallel = std::static_pointer_cast<engine::ParallelExecutor>(built.executor);
    auto waits = built.waits;
    return MadeGenerator{std::make_unique<engine::Generator>(loaded.config, built.executor, nullptr, c),
                         [parallel, waits] { return split_time_of(*parallel, *waits); }};
  };
}

// Decodes `batch` sequences of random prompts to `tokens` new tokens each
// (end-of-sequence ignored so every run does the same work).
Run run_batch(const model::ModelConfig& model, const MakeGenerator& make, int batch, int prompt_len, int tokens,
              int block_size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<engine::GenerationRequest> requests(batch);
  for (auto& r : requests) {
    r.prompt_ids.push_back(model.bos_id);
    for (int i = 1; i < prompt_len; ++i) r.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % (model.vocab_size - 3)));
    r.params.temperature = 0;
    r.params.max_tokens = tokens;
    r.params.ignore_eos = true;
  }
  engine::GeneratorConfig config;
  config.blocks.block_size = block_size;
  config.blocks.num_gpu_blocks = batch * ((prompt_len + tokens) / block_size + 2);
  config.blocks.watermark = 0;
  config.blocks.enable_prefix_caching = false;
  auto made = make(config);
  auto& gen = made.generator;
  const CpuTimes cpu_start = process_cpu();
  auto start = std::chrono::steady_clock::now();
  gen->generate(requests);
  Run r;
  r.batch = batch;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_seconds = process_cpu().total() - cpu_start.total();
  r.tokens_per_s = static_cast<double>(gen->stats().num_generated_tokens) / r.seconds;
  if (made.split_time) r.split = made.split_time();
  return r;
}

struct Report {
  std::string model, device, activation, weights;
  int prompt_len = 0, tokens = 0, block_size = 0, repeat = 0;
  int tensor_parallel = 1, pipeline_parallel = 1;
  std::size_t weight_bytes_per_step = 0;
  std::optional<MemoryBandwidth> bandwidth;
  std::vector<Run> runs;

  double single() const { return runs.front().batch == 1 ? runs.front().tokens_per_s : 0; }
  // Weights read per second: every step reads them all once, for `batch` tokens.
  double weight_gbps(const Run& r) const {
    return static_cast<double>(weight_bytes_per_step) * r.tokens_per_s / r.batch / 1e9;
  }
};

void print_json(const Report& rep) {
  net::JsonWriter w;
  w.begin_object().field("model", rep.model).field("device", rep.device).field("prompt_len", rep.prompt_len);
  w.field("dtype", rep.activation).field("weights", rep.weights);
  w.field("tensor_parallel_size", rep.tensor_parallel).field("pipeline_parallel_size", rep.pipeline_parallel);
  w.field("weight_bytes_per_step", static_cast<std::int64_t>(rep.weight_bytes_per_step));
  if (rep.bandwidth) {
    w.key("memory_bandwidth").begin_object().field("threads", rep.bandwidth->threads);
    w.field("copy_gbps", rep.bandwidth->copy_gbps).field("read_gbps", rep.bandwidth->read_gbps).end_object();
  }
  w.field("tokens", rep.tokens).field("block_size", rep.block_size).key("runs").begin_array();
  for (const auto& r : rep.runs) {
    w.begin_object().field("batch", r.batch).field("seconds", r.seconds).field("tokens_per_s", r.tokens_per_s);
    w.field("weight_gbps", rep.weight_gbps(r)).field("cpu_seconds", r.cpu_seconds);
    if (r.split) {
      w.field("collective_ms_per_step", r.split->collective_ms).field("stage_wait_ms_per_step", r.split->receive_ms);
      w.field("idle_fraction", r.split->idle_fraction);
    }
    if (rep.single() > 0) w.field("speedup_vs_batch1", r.tokens_per_s / rep.single());
    w.end_object();
  }
  w.end_array().end_object();
  std::printf("%s\n", w.str().c_str());
}

void print_table(const Report& rep) {
  std::printf("%s on %s, %s weights (%.1f MB read a step), prompt %d + %d new tokens, median of %d\n", rep.model.c_str(),
              rep.device.c_str(), rep.weights.c_str(), static_cast<double>(rep.weight_bytes_per_step) / 1e6, rep.prompt_len,
              rep.tokens, rep.repeat);
  if (rep.tensor_parallel * rep.pipeline_parallel > 1)
    std::printf("split: tensor parallel %d x pipeline parallel %d (threads of this process)\n", rep.tensor_parallel,
                rep.pipeline_parallel);
  if (rep.bandwidth)
    std::printf("memory bandwidth (%d threads, 2 x %zu MiB arrays, best of 5): copy %.1f GB/s, read %.1f GB/s\n",
                rep.bandwidth->threads, rep.bandwidth->array_bytes >> 20, rep.bandwidth->copy_gbps, rep.bandwidth->read_gbps);
  std::printf("%8s %12s %14s %10s %14s\n", "batch", "seconds", "tokens/s", "vs batch 1", "weights GB/s");
  for (const auto& r : rep.runs)
    std::printf("%8d %12.3f %14.1f %9.2fx %14.2f\n", r.batch, r.seconds, r.tokens_per_s,
                rep.single() > 0 ? r.tokens_per_s / rep.single() : 0.0, rep.weight_gbps(r));
  if (rep.tensor_parallel * rep.pipeline_parallel == 1) return;
  const int p = rep.pipeline_parallel, m = model::micro_batches_for(p);
  std::printf("per step, mean over ranks (pipeline bubble with %d micro-batches: (P-1)/(M+P-1) = %.2f)\n", m,
              static_cast<double>(p - 1) / (m + p - 1));
  std::printf("%8s %16s %16s %12s\n", "batch", "collectives ms", "stage wait ms", "idle");
  for (const auto& r : rep.runs)
    if (r.split)
      std::printf("%8d %16.3f %16.3f %11.1f%%\n", r.batch, r.split->collective_ms, r.split->receive_ms,
                  100 * r.split->idle_fraction);
}

// --isa and --gemv-up-to: the CPU's GEMV path and where it hands over to
// OpenBLAS, set for the whole process (A/B runs of the kernels).
void apply_cpu_kernel_flags(const Args& args) {
  if (args.has("isa")) {
    const std::string isa = args.get_or("isa", "");
    const kernels::cpu::Isa all[] = {kernels::cpu::Isa::scalar, kernels::cpu::Isa::avx2, kernels::cpu::Isa::avx512};
    const auto* it = std::find_if(std::begin(all), std::end(all), [&](auto i) { return kernels::cpu::isa_name(i) == isa; });
    if (it == std::end(all)) throw CliError("--isa must be scalar, avx2 or avx512");
    try {
      kernels::cpu::set_active_isa(*it);
    } catch (const std::invalid_argument& e) {
      throw CliError(std::string("--isa: ") + e.what());
    }
  }
  kernels::cpu::set_gemv_up_to_rows(static_cast<int>(args.get_int("gemv-up-to", kernels::cpu::kDefaultGemvUpToRows, 0, 4096)));
}

}  // namespace

int run_bench_throughput(int argc, char** argv) {
  const auto command = read_bench_command_line(argc, argv, kHelp,
                                               {"batch", "prompt-len", "tokens", "repeat", "isa", "gemv-up-to", "no-probe"},
                                               {"json", "no-probe"}, bench_defaults());
  if (!command) return 0;
  const auto& [args, config] = *command;
  apply_cpu_kernel_flags(args);
  const auto batches = parse_batch_list(args.get_or("batch", "1,8,32,64"));
  const int prompt_len = static_cast<int>(args.get_int("prompt-len", 16, 1, 4096));
  const int tokens = static_cast<int>(args.get_int("tokens", 64, 1, 8192));
  const int repeat = static_cast<int>(args.get_int("repeat", 3, 1, 100));
  const int block_size = config.block_size;
  const std::string& model_path = config.model;
  model::LoadOptions load;
  load.tokenizer_path = config.tokenizer;
  // Dummy weights in f32, so that --dtype alone chooses what runs.
  auto loaded = model::load_model(model_path, load);
  if (prompt_len + tokens > loaded.config.max_seq_len + 1)
    throw CliError("--prompt-len + --tokens exceeds the model's " + std::to_string(loaded.config.max_seq_len) + " positions");
  auto backend = kernels::make_backend(config.device, actors::backend_options(config, loaded.weights.token_embedding.dtype));
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  const MakeGenerator make = generator_maker(config, loaded, llama);
  run_batch(loaded.config, make, 1, prompt_len, 4, block_size, 0);  // warm-up: caches, thread pools

  std::vector<Run> runs;
  for (int b : batches) {
    std::vector<Run> tries;
    for (int i = 0; i < repeat; ++i) tries.push_back(run_batch(loaded.config, make, b, prompt_len, tokens, block_size, i + 1));
    std::sort(tries.begin(), tries.end(), [](const Run& a, const Run& c) { return a.tokens_per_s < c.tokens_per_s; });
    runs.push_back(tries[tries.size() / 2]);
  }
  Report report{model_path, backend->name(), std::string(kernels::dtype_name(backend->activation_dtype())),
                std::string(kernels::dtype_name(backend->weight_dtype())), prompt_len,
                tokens, block_size, repeat, config.tensor_parallel_size, config.pipeline_parallel_size,
                llama.streamed_weight_bytes(), {}, runs};
  if (config.device == "cpu" && !args.flag("no-probe")) report.bandwidth = measure_memory_bandwidth();
  if (args.flag("json")) print_json(report);
  else print_table(report);
  return 0;
}

}  // namespace pagedserve::cli
