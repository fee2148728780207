#include "cli/bench.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>

#include "cli/args.hpp"

namespace pagedserve::cli {

namespace {

struct Benchmark {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Benchmark kBenchmarks[] = {
    {"throughput", "decode tokens/s, one stream vs batched, on the CPU or a GPU", run_bench_throughput},
    {"kernels", "PagedAttention decode bandwidth vs the device's copy bandwidth", run_bench_kernels},
    {"serving", "a request trace through the engine: requests/s, tokens/s, KV use, preemptions", run_bench_serving},
    {"overhead", "engine work per step: the real actors with a null executor", run_bench_overhead},
    {"grammar", "constrained decoding: mask time per token, schema compile time, tokens/s with and without", run_bench_grammar},
    {"memory", "KV utilization, fragmentation, sustained rate and sharing: paged vs contiguous", run_bench_memory},
};

}  // namespace

CpuTimes process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

std::vector<int> parse_batch_list(const std::string& text) {
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

int run_bench(int argc, char** argv) {
  if (argc >= 1)
    for (const auto& b : kBenchmarks)
      if (!std::strcmp(argv[0], b.name)) return b.run(argc - 1, argv + 1);
  const bool help = argc >= 1 && (!std::strcmp(argv[0], "--help") || !std::strcmp(argv[0], "-h"));
  if (argc >= 1 && !help) throw CliError(std::string("unknown benchmark '") + argv[0] + "'");
  std::printf("usage: pagedserve bench <benchmark> [options]\n\nbenchmarks:\n");
  for (const auto& b : kBenchmarks) std::printf("  %-12s %s\n", b.name, b.summary);
  return argc == 0 ? 2 : 0;
}

}  // namespace pagedserve::cli
