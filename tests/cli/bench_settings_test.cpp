// Every benchmark reads the engine settings from the one table that serve
// and generate read: the same flags, the same checks, and --config FILE.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

namespace {

const char* const kBenchmarks[] = {"throughput", "kernels", "overhead", "memory", "serving"};

std::string config_file_with_block_size_8() {
  std::string path = "/tmp/pagedserve-bench-settings-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << "{\"block_size\": 8, \"enable_prefix_caching\": false}\n";
  return path;
}

}  // namespace

TEST_CASE("every bench lists the engine settings in its help", "[cli][bench]") {
  for (std::string bench : kBenchmarks) {
    INFO(bench);
    auto r = run_pagedserve("bench " + bench + " --help");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("--max-num-batched-tokens N") != std::string::npos);
    CHECK(r.output.find("(recompute, swap) (default \"recompute\")") != std::string::npos);
    CHECK(r.output.find("--config FILE") != std::string::npos);
  }
}

TEST_CASE("every bench refuses a bad engine setting as serve does", "[cli][bench]") {
  for (std::string bench : kBenchmarks) {
    INFO(bench);
    auto r = run_pagedserve("bench " + bench + " --preemption-mode sometimes");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("one of recompute, swap") != std::string::npos);
    r = run_pagedserve("bench " + bench + " --pipeline-parallel-size 0");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("pipeline_parallel_size must be in") != std::string::npos);
  }
}

TEST_CASE("every bench takes its block size from --config", "[cli][bench]") {
  const std::string config = config_file_with_block_size_8();
  const std::string model = " --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K";
  const std::string runs[] = {
      "bench throughput --batch 1 --prompt-len 4 --tokens 4 --repeat 1 --json" + model,
      "bench kernels --batch 1 --context 16 --heads 2 --head-size 8 --gqa 1 --iters 1 --json",
      "bench overhead --seqs 4 --tokens 1500 --rounds 1 --json" + model,
      "bench memory --num-requests 20 --kv-tokens 2000 --max-len 256 --no-rate-search --json",
      "bench serving --num-requests 4 --json" + model,
  };
  for (const auto& run : runs) {
    INFO(run);
    auto r = run_pagedserve(run + " --config " + config);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("\"block_size\":8") != std::string::npos);
  }
  std::remove(config.c_str());
}
