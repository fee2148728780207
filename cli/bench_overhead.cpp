// `pagedserve bench overhead`: what the engine itself costs per step. The
// real actors (router, scheduler, block manager, executor) run with a null
// executor that returns a token for every sequence at once, so a step's
// time is all scheduling, planning, messaging and output processing
// (detokenization and event delivery included).
//
// With --remote the same steps run a second time with the null executor in
// another actor system reached over TCP on 127.0.0.1, as a worker's would
// be: the difference is what the worker link adds to a step.

#include "cli/bench.hpp"

#include <algorithm>
#include <optional>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <caf/io/all.hpp>

#include "actors/engine_start.hpp"
#include "actors/runtime.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "engine/engine_core.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench overhead [MODEL] [options]

  --seqs N          running sequences (default 256)
  --prompt-len N    prompt tokens per sequence (default 32)
  --tokens N        new tokens per sequence and round (default 448)
  --rounds R        rounds; the median is reported (default 3)
  --remote          also time the executor across a TCP link on 127.0.0.1
  --json            one JSON line

engine settings (as for serve; the model gives the tokenizer, no model runs;
--max-num-seqs and --max-num-batched-tokens are raised so all --seqs run at
once; --watermark defaults to 0 here):
)";

Settings bench_defaults() {
  Settings s;
  s.set_from_text("watermark", "0");
  return s;
}

using Clock = std::chrono::steady_clock;

// Counts each request's tokens; events arrive on the router's thread.
class CountingSink final : public actors::RequestSink {
 public:
  explicit CountingSink(std::atomic<int>& tokens) : tokens_(tokens) {}
  void on_token(const actors::TokenEvent&) override { tokens_.fetch_add(1, std::memory_order_relaxed); }
  void on_sample_finished(const actors::SampleFinished&) override {}
  void on_done(const actors::RequestDone&) override {}

 private:
  std::atomic<int>& tokens_;
};

struct Round {
  double steps_per_s = 0;
  double tokens_per_s = 0;
  double user_us_per_step = 0;    // CPU time in user space, all threads
  double system_us_per_step = 0;  // CPU time in the kernel (thread wake-ups)
};

template <class Pred>
void wait_until(Pred pred) {
  while (!pred()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Runs `seqs` requests and times the steps while every one of them decodes
// (from each having 16 tokens until the first has all but 16).
actors::GenerateRequest request(int round, int i, int prompt_len, int tokens) {
  actors::GenerateRequest r;
  r.request_id = "overhead-" + std::to_string(round) + "-" + std::to_string(i);
  for (int t = 0; t < prompt_len; ++t) r.prompt_ids.push_back(3 + (i * 131 + t * 7) % 400);
  r.sampling.temperature = 0;
  r.sampling.max_tokens = tokens;
  r.sampling.ignore_eos = true;
  return r;
}

Round run_round(actors::Engine& engine, int round, int seqs, int prompt_len, int tokens) {
  std::vector<std::atomic<int>> counts(static_cast<std::size_t>(seqs));
  for (int i = 0; i < seqs; ++i) {
    auto result = engine.submit(request(round, i, prompt_len, tokens),
                                std::make_shared<CountingSink>(counts[static_cast<std::size_t>(i)]));
    if (!result.ok()) throw std::runtime_error("the benchmark request was refused: " + result.message);
  }
  auto all_at = [&](int n) { return std::all_of(counts.begin(), counts.end(), [&](const auto& c) { return c.load() >= n; }); };
  auto any_at = [&](int n) { return std::any_of(counts.begin(), counts.end(), [&](const auto& c) { return c.load() >= n; }); };
  wait_until([&] { return all_at(16); });
  const auto m0 = engine.metrics();
  const auto t0 = Clock::now();
  const CpuTimes cpu0 = process_cpu();
  wait_until([&] { return any_at(tokens - 16); });
  const auto m1 = engine.metrics();
  const CpuTimes cpu1 = process_cpu();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  wait_until([&] { return all_at(tokens); });
  const auto steps = static_cast<double>(m1.num_steps - m0.num_steps);
  if (steps < 1) throw CliError("no step fell in the timed window: raise --tokens");
  return {steps / seconds, static_cast<double>(m1.generation_tokens_total - m0.generation_tokens_total) / seconds,
          (cpu1.user - cpu0.user) * 1e6 / steps, (cpu1.system - cpu0.system) * 1e6 / steps};
}

// The same work in one thread without actors (EngineCore): the CPU cost of
// a step alone, without message passing. Microseconds per decode step.
double core_us_per_step(const model::Tokenizer& tokenizer, const actors::EngineConfig& config, int num_gpu_blocks,
                        int seqs, int prompt_len, int tokens) {
  engine::NullExecutor executor(300);
  engine::EngineCoreConfig c;
  c.blocks.block_size = config.block_size;
  c.blocks.num_gpu_blocks = num_gpu_blocks;
  c.blocks.watermark = 0;
  c.scheduler = {config.max_num_seqs, config.max_num_batched_tokens, config.preemption_mode};
  c.max_model_len = prompt_len + tokens;
  engine::EngineCore core(c, executor, &tokenizer);
  std::vector<engine::Event> events;
  for (int i = 0; i < seqs; ++i) core.add(request(0, i, prompt_len, tokens), events);
  for (int s = 0; s < 16; ++s) core.step(events);
  events.clear();
  const int timed = tokens - 32;
  const auto t0 = Clock::now();
  for (int s = 0; s < timed; ++s) {
    core.step(events);
    events.clear();
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / timed;
}

struct Shape {
  int seqs = 0, prompt_len = 0, tokens = 0, rounds = 0;
};

// The engine's parts around a null executor: the tokenizer of `config.model`
// and a pool that holds every sequence.
actors::EngineParts engine_parts(const actors::EngineConfig& config, const Shape& shape) {
  model::LoadOptions load;
  load.tokenizer_path = config.tokenizer;
  auto loaded = model::load_model(config.model, load);
  if (!loaded.tokenizer) throw CliError("the model has no tokenizer");
  actors::EngineParts parts;
  parts.model_config = loaded.config;
  parts.max_model_len = parts.model_config.max_seq_len = shape.prompt_len + shape.tokens;  // no model runs: any length
  parts.tokenizer = std::move(loaded.tokenizer);
  parts.num_gpu_blocks =
      shape.seqs * ((shape.prompt_len + shape.tokens + config.block_size - 1) / config.block_size + 1);
  return parts;
}

// The median round of `engine`, which is shut down after.
Round median_round(actors::Engine& engine, const Shape& shape) {
  std::vector<Round> runs;
  for (int r = 0; r < shape.rounds; ++r) runs.push_back(run_round(engine, r, shape.seqs, shape.prompt_len, shape.tokens));
  std::sort(runs.begin(), runs.end(), [](const Round& a, const Round& b) { return a.steps_per_s < b.steps_per_s; });
  engine.shutdown(std::chrono::milliseconds(0));
  return runs[runs.size() / 2];
}

// The null executor published in an actor system of its own on 127.0.0.1,
// and an engine whose executor is its proxy, reached over TCP.
Round remote_round(const actors::EngineConfig& config, const Shape& shape) {
  auto far = actors::make_runtime(true);
  auto executor = actors::spawn_executor(*far.system, std::make_shared<engine::NullExecutor>(300));
  auto port = far.system->middleman().publish(executor, 0, "127.0.0.1", true);
  if (!port) throw std::runtime_error("cannot listen on 127.0.0.1: " + far.system->render(port.error()));
  auto near = actors::make_runtime(true);
  auto proxy = near.system->middleman().remote_actor<actors::executor_actor>("127.0.0.1", *port);
  if (!proxy) throw std::runtime_error("cannot reach the executor: " + near.system->render(proxy.error()));
  near.remote_executor = std::move(*proxy);
  auto engine = actors::start_engine(config, engine_parts(config, shape), std::move(near));
  const Round median = median_round(*engine, shape);
  engine.reset();
  caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
  return median;
}

}  // namespace

int run_bench_overhead(int argc, char** argv) {
  const auto command = read_bench_command_line(argc, argv, kHelp, {"seqs", "prompt-len", "tokens", "rounds"},
                                               {"json", "remote"}, bench_defaults());
  if (!command) return 0;
  const auto& args = command->args;
  auto config = command->config;
  Shape shape;
  shape.seqs = static_cast<int>(args.get_int("seqs", 256, 1, 4096));
  shape.prompt_len = static_cast<int>(args.get_int("prompt-len", 32, 1, 4096));
  shape.tokens = static_cast<int>(args.get_int("tokens", 448, 64, 1 << 16));
  shape.rounds = static_cast<int>(args.get_int("rounds", 3, 1, 100));
  config.max_num_seqs = std::max(config.max_num_seqs, shape.seqs);
  config.max_num_batched_tokens = std::max(config.max_num_batched_tokens, shape.seqs * shape.prompt_len);
  config.max_waiting_requests = std::max(config.max_waiting_requests, shape.seqs + 1);

  auto parts = engine_parts(config, shape);
  parts.executor = std::make_shared<engine::NullExecutor>(300);
  const int num_gpu_blocks = parts.num_gpu_blocks;
  auto engine = actors::start_engine(config, std::move(parts));
  const Round median = median_round(*engine, shape);
  const double us_per_step = 1e6 / median.steps_per_s;
  const double core_us =
      core_us_per_step(engine->tokenizer(), config, num_gpu_blocks, shape.seqs, shape.prompt_len, shape.tokens);
  engine.reset();
  std::optional<Round> remote;
  if (args.flag("remote")) remote = remote_round(config, shape);
  const double remote_us = remote ? 1e6 / remote->steps_per_s : 0;
  if (args.flag("json")) {
    net::JsonWriter w;
    w.begin_object().field("benchmark", "overhead").field("seqs", shape.seqs).field("rounds", shape.rounds);
    w.field("block_size", config.block_size);
    w.field("steps_per_s", median.steps_per_s).field("us_per_step", us_per_step);
    w.field("tokens_per_s", median.tokens_per_s).field("user_us_per_step", median.user_us_per_step);
    w.field("system_us_per_step", median.system_us_per_step);
    w.field("core_us_per_step", core_us);
    if (remote) w.field("remote_us_per_step", remote_us).field("remote_added_us_per_step", remote_us - us_per_step);
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("engine overhead with %d running sequences (null executor, median of %d rounds):\n", shape.seqs,
                shape.rounds);
    std::printf("  %.0f steps/s, %.1f us per step, %.0f tokens/s\n", median.steps_per_s, us_per_step,
                median.tokens_per_s);
    std::printf("  CPU time of all threads per step: %.1f us user, %.1f us kernel (waking threads)\n",
                median.user_us_per_step, median.system_us_per_step);
    std::printf("  the same steps in one thread without actors: %.1f us per step\n", core_us);
    if (remote)
      std::printf("  with the executor across TCP on 127.0.0.1: %.1f us per step (+%.1f us)\n", remote_us,
                  remote_us - us_per_step);
  }
  return 0;
}

}  // namespace pagedserve::cli
