// `pagedserve bench memory`: paged KV memory against contiguous reservation
// (Orca-style) on a request trace, and the savings of sharing.

#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <vector>

#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/bench.hpp"
#include "cli/bench_memory_engine.hpp"
#include "cli/bench_memory_plot.hpp"
#include "memory/block_hash.hpp"
#include "sim/kv_sim.hpp"
#include "sim/sharing_sim.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench memory [options]

  --trace NAME|FILE    sharegpt (default), alpaca, or a file of "input output" lines
  --num-requests N     requests in a synthetic trace (default 1000)
  --kv-tokens T        KV budget in token slots (default 15000: OPT-13B on a 40 GB GPU)
  --max-len L          model maximum length (default 2048)
  --step-time S        seconds per decode step (default 0.04)
  --rate R             requests/s for the utilization runs (default 0: all arrive at once)
  --seed S             (default 1)
  --no-rate-search     skip the highest-sustained-rate search
  --sweep-block-sizes  also report utilization and rate for block sizes 8..256
  --engine MODEL       also run the trace, scaled to MODEL's length, through the
                       real engine on the CPU and compare with the simulation
  --engine-requests N  requests for that check (default 64)
  --json               one JSON line
  --plot DIR           write PNG charts with gnuplot

engine settings (as for serve; the block size applies to the simulation and
the engine check):
)";

const sim::KvSystem kSystems[] = {sim::KvSystem::paged, sim::KvSystem::orca_max, sim::KvSystem::orca_pow2,
                                     sim::KvSystem::orca_oracle};

struct SystemReport {
  sim::SimResult sim;
  double max_rate = -1;
};

std::vector<sim::TraceRequest> make_trace(const Args& args, int max_len, std::uint64_t seed) {
  const std::string name = args.get_or("trace", "sharegpt");
  const int n = static_cast<int>(args.get_int("num-requests", 1000, 1, 1000000));
  if (name == "sharegpt") return sim::sharegpt_like(n, max_len, seed);
  if (name == "alpaca") return sim::alpaca_like(n, max_len, seed);
  return sim::load_trace_file(name, max_len);
}

void write_system(net::JsonWriter& w, const SystemReport& r) {
  const auto& s = r.sim;
  w.begin_object().field("utilization", s.utilization).field("reservation", s.reservation);
  w.field("internal_fragmentation", s.internal_fragmentation).field("external_fragmentation", s.external_fragmentation);
  w.field("mean_concurrent", s.mean_running).field("max_concurrent", s.max_running);
  w.field("preemptions", static_cast<std::int64_t>(s.num_preemptions));
  if (r.max_rate >= 0) w.field("max_rate", r.max_rate);
  w.end_object();
}

volatile memory::BlockHash block_hash_sink = 0;

// What the prefix cache pays per full block (hashed once, as it fills): the
// keyed hash's nanoseconds for one block of `block_size` tokens.
double block_hash_ns(int block_size) {
  std::vector<std::int32_t> tokens(block_size);
  std::iota(tokens.begin(), tokens.end(), 1);
  constexpr int kBlocks = 100000;
  memory::BlockHash h = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBlocks; ++i) h = memory::hash_block(h, tokens);  // chained: no call can be skipped
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  block_hash_sink = h;  // the result is used, so the loop stays
  return ns / kBlocks;
}

}  // namespace

int run_bench_memory(int argc, char** argv) {
  const auto command = read_bench_command_line(
      argc, argv, kHelp,
      {"trace", "num-requests", "kv-tokens", "max-len", "step-time", "rate", "seed", "plot", "engine", "engine-requests"},
      {"json", "no-rate-search", "sweep-block-sizes"});
  if (!command) return 0;
  const auto& args = command->args;
  sim::SimConfig config;
  config.kv_tokens = args.get_int("kv-tokens", 15000, 64, 1LL << 32);
  config.block_size = command->config.block_size;
  config.max_len = static_cast<int>(args.get_int("max-len", 2048, 2, 1 << 20));
  config.step_time = args.get_double("step-time", 0.04, 1e-6, 100);
  if (config.max_len > config.kv_tokens) throw CliError("--max-len exceeds --kv-tokens: orca_max could never run");
  const double rate = args.get_double("rate", 0, 0, 1e9);
  const auto seed = static_cast<std::uint64_t>(args.get_int("seed", 1, 0, INT64_MAX));
  auto trace = make_trace(args, config.max_len, seed);
  if (rate > 0) sim::assign_poisson_arrivals(trace, rate, seed);
  const auto summary = sim::summarize(trace);
  config.series_every = 10;

  std::map<std::string, SystemReport> reports;
  for (auto sys : kSystems) {
    SystemReport r;
    r.sim = sim::simulate_kv(trace, sys, config);
    if (!args.flag("no-rate-search")) r.max_rate = sim::max_sustained_rate(trace, sys, config, seed);
    reports[sim::kv_system_name(sys)] = r;
  }
  std::map<int, sim::SharingResult> parallel, beam;
  for (int k : {2, 4, 6}) {
    parallel[k] = sim::parallel_sampling_saving(trace, k, config.block_size, seed);
    beam[k] = sim::beam_search_saving(trace, k, config.block_size, seed);
  }
  std::vector<BlockSizePoint> sweep;
  if (args.flag("sweep-block-sizes"))
    for (int bs : {8, 16, 32, 64, 128, 256}) {
      auto c = config;
      c.block_size = bs;
      BlockSizePoint p{bs, sim::simulate_kv(trace, sim::KvSystem::paged, c).utilization, -1};
      if (!args.flag("no-rate-search")) p.max_rate = sim::max_sustained_rate(trace, sim::KvSystem::paged, c, seed);
      sweep.push_back(p);
    }

  std::optional<EngineCheck> check;
  if (auto model = args.get("engine"))
    check = check_against_engine(trace, config, *model, static_cast<int>(args.get_int("engine-requests", 64, 1, 100000)));

  net::JsonWriter w;
  w.begin_object().field("trace", args.get_or("trace", "sharegpt")).field("num_requests", static_cast<std::int64_t>(trace.size()));
  w.field("mean_input", summary.mean_input).field("mean_output", summary.mean_output);
  w.field("block_size", config.block_size).field("kv_tokens", config.kv_tokens).field("max_len", config.max_len);
  const double hash_ns = block_hash_ns(config.block_size);
  w.field("step_time", config.step_time).field("block_hash_ns", hash_ns).key("systems").begin_object();
  for (const auto& [name, r] : reports) write_system(w.key(name), r);
  w.end_object().key("sharing").begin_object().key("parallel_sampling").begin_object();
  for (const auto& [k, s] : parallel) w.field(std::to_string(k), 100.0 * s.saving());
  w.end_object().key("beam_search").begin_object();
  for (const auto& [k, s] : beam) w.field(std::to_string(k), 100.0 * s.saving());
  w.end_object().end_object();
  if (!sweep.empty()) {
    w.key("block_size_sweep").begin_array();
    for (const auto& p : sweep) w.begin_object().field("block_size", p.block_size).field("utilization", p.utilization).field("max_rate", p.max_rate).end_object();
    w.end_array();
  }
  if (check) {
    w.key("engine_check").begin_object().field("requests", check->num_requests).field("kv_tokens", check->kv_tokens);
    w.field("sim_utilization", check->sim_utilization).field("engine_utilization", check->engine_utilization);
    w.field("sim_preemptions", static_cast<std::int64_t>(check->sim_preemptions));
    w.field("engine_preemptions", static_cast<std::int64_t>(check->engine_preemptions));
    w.field("sim_max_running", check->sim_max_running).field("engine_max_running", check->engine_max_running).end_object();
  }
  w.end_object();

  if (auto dir = args.get("plot")) {
    MemoryPlotData data;
    for (const auto& [name, r] : reports) {
      data.utilization[name] = r.sim.utilization;
      data.running_series[name] = r.sim.running_series;
    }
    for (const auto& [k, s] : parallel) data.parallel_saving[k] = 100.0 * s.saving();
    for (const auto& [k, s] : beam) data.beam_saving[k] = 100.0 * s.saving();
    data.series_step_seconds = config.step_time * config.series_every;
    if (!args.flag("no-rate-search")) data.latency_curves = latency_curves(trace, config, seed, reports["paged"].max_rate);
    write_memory_plots(*dir, data);
  }
  if (args.flag("json")) {
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf("trace %s: %zu requests, mean input %.1f, mean output %.1f; KV budget %lld slots, block size %d\n\n",
              args.get_or("trace", "sharegpt").c_str(), trace.size(), summary.mean_input, summary.mean_output,
              static_cast<long long>(config.kv_tokens), config.block_size);
  std::printf("%-12s %11s %11s %9s %9s %9s %9s %11s\n", "system", "utilization", "reservation", "int.frag", "ext.frag",
              "mean run", "max run", "max rate/s");
  for (const auto& [name, r] : reports)
    std::printf("%-12s %10.1f%% %10.1f%% %8.1f%% %8.1f%% %9.1f %9d %11.3f\n", name.c_str(), 100 * r.sim.utilization,
                100 * r.sim.reservation, 100 * r.sim.internal_fragmentation, 100 * r.sim.external_fragmentation,
                r.sim.mean_running, r.sim.max_running, r.max_rate);
  std::printf("\nprefix cache: %.0f ns to hash one %d-token block (keyed SipHash-2-4)\n", hash_ns, config.block_size);
  std::printf("\nsharing saves: parallel sampling n=2/4/6: %.1f%% %.1f%% %.1f%%; beam search k=2/4/6: %.1f%% %.1f%% %.1f%%\n",
              100 * parallel[2].saving(), 100 * parallel[4].saving(), 100 * parallel[6].saving(), 100 * beam[2].saving(),
              100 * beam[4].saving(), 100 * beam[6].saving());
  if (check)
    std::printf("\nreal engine vs simulation (%d requests, %lld slots): utilization %.1f%% vs %.1f%%, preemptions %lld vs %lld, "
                "max running %d vs %d\n",
                check->num_requests, static_cast<long long>(check->kv_tokens), 100 * check->engine_utilization,
                100 * check->sim_utilization, static_cast<long long>(check->engine_preemptions),
                static_cast<long long>(check->sim_preemptions), check->engine_max_running, check->sim_max_running);
  for (const auto& p : sweep) std::printf("block size %3d: utilization %.1f%%, max rate %.3f/s\n", p.block_size, 100 * p.utilization, p.max_rate);
  return 0;
}

}  // namespace pagedserve::cli
