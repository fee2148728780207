#pragma once
// `pagedserve bench <name>`: the benchmarks. To add one, write
// `int run_bench_<name>(int argc, char** argv)` and list it in kBenchmarks
// (cli/bench.cpp).

#include <string>
#include <vector>

namespace pagedserve::cli {

// "1,8,64": positive batch sizes; throws CliError naming --batch.
std::vector<int> parse_batch_list(const std::string& text);

// CPU time used so far by every thread of the process: the work, without
// the time threads spend asleep or waiting for a core. On a shared machine
// it varies far less than wall time.
struct CpuTimes {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};
CpuTimes process_cpu();

int run_bench(int argc, char** argv);
int run_bench_throughput(int argc, char** argv);
int run_bench_memory(int argc, char** argv);
int run_bench_kernels(int argc, char** argv);
int run_bench_serving(int argc, char** argv);
int run_bench_overhead(int argc, char** argv);
int run_bench_grammar(int argc, char** argv);

}  // namespace pagedserve::cli
