#pragma once
// `pagedserve bench <name>`: the benchmarks. To add one, write
// `int run_bench_<name>(int argc, char** argv)` and list it in kBenchmarks
// (cli/bench.cpp).

namespace pagedserve::cli {

int run_bench(int argc, char** argv);
int run_bench_throughput(int argc, char** argv);
int run_bench_memory(int argc, char** argv);
int run_bench_kernels(int argc, char** argv);
int run_bench_serving(int argc, char** argv);
int run_bench_overhead(int argc, char** argv);

}  // namespace pagedserve::cli
