// `pagedserve bench throughput`: aggregate decode tokens/s at several batch
// sizes through the real paged generation loop, against one-at-a-time
// decoding (batch 1) measured in the same run.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>

#include "actors/engine.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/bench.hpp"
#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench throughput [MODEL] [options]

  --batch LIST       batch sizes, comma separated (default 1,8,32,64)
  --prompt-len N     prompt tokens per sequence (default 16)
  --tokens N         new tokens per sequence (default 64)
  --repeat R         runs per batch size; the median is reported (default 3)
  --json             one JSON line

engine settings (as for serve; here --model defaults to dummy:stories15M; the
model, device, dtype, attention kernel and block size apply, the pool is
sized to the batch):
)";

Settings bench_defaults() {
  Settings s;
  s.set_from_text("model", "dummy:stories15M");
  return s;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      std::size_t used = 0;
      int v = std::stoi(item, &used);
      if (used != item.size() || v <= 0 || v > 4096) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw CliError("--batch expects positive integers separated by commas, got '" + text + "'");
    }
  }
  if (out.empty()) throw CliError("--batch is empty");
  return out;
}

struct Run {
  int batch = 0;
  double seconds = 0;
  double tokens_per_s = 0;
};

// Decodes `batch` sequences of random prompts to `tokens` new tokens each
// (end-of-sequence ignored so every run does the same work).
Run run_batch(model::LlamaModel& llama, int batch, int prompt_len, int tokens, int block_size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<engine::GenerationRequest> requests(batch);
  for (auto& r : requests) {
    r.prompt_ids.push_back(llama.config().bos_id);
    for (int i = 1; i < prompt_len; ++i) r.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % (llama.config().vocab_size - 3)));
    r.params.temperature = 0;
    r.params.max_tokens = tokens;
    r.params.ignore_eos = true;
  }
  engine::GeneratorConfig config;
  config.blocks.block_size = block_size;
  config.blocks.num_gpu_blocks = batch * ((prompt_len + tokens) / block_size + 2);
  config.blocks.watermark = 0;
  config.blocks.enable_prefix_caching = false;
  engine::Generator gen(llama, nullptr, config);
  auto start = std::chrono::steady_clock::now();
  gen.generate(requests);
  Run r;
  r.batch = batch;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.tokens_per_s = static_cast<double>(gen.stats().num_generated_tokens) / r.seconds;
  return r;
}

}  // namespace

int run_bench_throughput(int argc, char** argv) {
  const auto command =
      read_bench_command_line(argc, argv, kHelp, {"batch", "prompt-len", "tokens", "repeat"}, {"json"}, bench_defaults());
  if (!command) return 0;
  const auto& [args, config] = *command;
  const auto batches = parse_list(args.get_or("batch", "1,8,32,64"));
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
  run_batch(llama, 1, prompt_len, 4, block_size, 0);  // warm-up: caches, thread pools

  std::vector<Run> runs;
  for (int b : batches) {
    std::vector<Run> tries;
    for (int i = 0; i < repeat; ++i) tries.push_back(run_batch(llama, b, prompt_len, tokens, block_size, i + 1));
    std::sort(tries.begin(), tries.end(), [](const Run& a, const Run& c) { return a.tokens_per_s < c.tokens_per_s; });
    runs.push_back(tries[tries.size() / 2]);
  }
  const double single = runs.front().batch == 1 ? runs.front().tokens_per_s : 0;
  if (args.flag("json")) {
    net::JsonWriter w;
    w.begin_object().field("model", model_path).field("device", backend->name()).field("prompt_len", prompt_len);
    w.field("dtype", std::string(kernels::dtype_name(backend->activation_dtype())));
    w.field("tokens", tokens).field("block_size", block_size).key("runs").begin_array();
    for (const auto& r : runs) {
      w.begin_object().field("batch", r.batch).field("seconds", r.seconds).field("tokens_per_s", r.tokens_per_s);
      if (single > 0) w.field("speedup_vs_batch1", r.tokens_per_s / single);
      w.end_object();
    }
    w.end_array().end_object();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("%s on %s, prompt %d + %d new tokens, median of %d\n", model_path.c_str(), backend->name().c_str(),
                prompt_len, tokens, repeat);
    std::printf("%8s %12s %14s %10s\n", "batch", "seconds", "tokens/s", "vs batch 1");
    for (const auto& r : runs)
      std::printf("%8d %12.3f %14.1f %9.2fx\n", r.batch, r.seconds, r.tokens_per_s, single > 0 ? r.tokens_per_s / single : 0.0);
  }
  return 0;
}

}  // namespace pagedserve::cli
