// Every command as a user runs it: -h and --help anywhere, a positional
// MODEL, and the refusals with their messages and exit codes.

#include <catch2/catch.hpp>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("every command prints its help for -h and --help and exits 0", "[cli]") {
  for (std::string command : {"generate", "serve", "worker", "admin", "config", "version", "bench", "bench throughput",
                              "bench serving", "bench memory", "bench overhead", "bench kernels"}) {
    for (std::string help : {"-h", "--help"}) {
      INFO(command + " " + help);
      auto r = run_pagedserve(command + " " + help);
      CHECK(r.exit_code == 0);
      CHECK(r.output.find("usage: pagedserve") != std::string::npos);
    }
  }
  // After other flags too, and before the server would bind.
  auto r = run_pagedserve("serve --port 1 --no-enable-prefix-caching -h");
  CHECK(r.exit_code == 0);
}

TEST_CASE("serve and generate help show every engine setting with its default and choices", "[cli]") {
  for (std::string command : {"serve", "generate"}) {
    INFO(command);
    auto r = run_pagedserve(command + " --help");
    CHECK(r.output.find("--block-size N") != std::string::npos);
    CHECK(r.output.find("tokens per KV block (default 16)") != std::string::npos);
    CHECK(r.output.find("(recompute, swap) (default \"recompute\")") != std::string::npos);
    CHECK(r.output.find("--enable-prefix-caching, --no-enable-prefix-caching") != std::string::npos);
    CHECK(r.output.find("--max-model-len N") != std::string::npos);
    CHECK(r.output.find("MODEL (positional)") != std::string::npos);
  }
  CHECK(run_pagedserve("serve --help").output.find("--api-key TEXT") != std::string::npos);
  CHECK(run_pagedserve("generate --help").output.find("--api-key") == std::string::npos);
}

TEST_CASE("generate takes the model as a positional argument", "[cli]") {
  auto r = run_pagedserve("generate " PAGEDSERVE_SOURCE_DIR "/models/stories260K --prompt \"Once upon a time\" "
                          "--max-tokens 12 --temperature 0 --no-enable-prefix-caching --max-model-len 64");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
}

TEST_CASE("stray positionals, a second model and a bad parallel size are refused", "[cli]") {
  auto r = run_pagedserve("serve models/a models/b");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unexpected argument 'models/b'") != std::string::npos);
  r = run_pagedserve("generate models/a --model models/b");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("the model is given twice") != std::string::npos);
  r = run_pagedserve("serve --pipeline-parallel-size 0");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("pipeline_parallel_size must be in [1, 1024]") != std::string::npos);
  r = run_pagedserve("generate " PAGEDSERVE_SOURCE_DIR "/models/stories260K --pipeline-parallel-size 6 --prompt x");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--pipeline-parallel-size 6 exceeds the model's 5 layers") != std::string::npos);
  r = run_pagedserve("version extra");
  CHECK(r.exit_code == 2);
  r = run_pagedserve("generate --json=maybe");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--json must be true or false") != std::string::npos);
  r = run_pagedserve("serve --port 1 --api-key-file /nonexistent/key");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("cannot read --api-key-file") != std::string::npos);
}

TEST_CASE("bench serving takes the engine settings of serve and generate", "[cli]") {
  auto r = run_pagedserve("bench serving " PAGEDSERVE_SOURCE_DIR "/models/stories260K --num-requests 8 --json "
                          "--block-size 8 --num-gpu-blocks-override 300 --no-enable-prefix-caching --max-num-seqs 4");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("\"block_size\":8") != std::string::npos);
  CHECK(r.output.find("\"num_gpu_blocks\":300") != std::string::npos);
  CHECK(r.output.find("\"max_running\":4") != std::string::npos);
  r = run_pagedserve("bench serving --pipeline-parallel-size 0");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("pipeline_parallel_size must be in") != std::string::npos);
  r = run_pagedserve("bench serving --preemption-mode sometimes");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("one of recompute, swap") != std::string::npos);
}

TEST_CASE("worker refuses a missing or bad --listen and unknown flags; serve refuses a wrong count of --executor", "[cli]") {
  auto r = run_pagedserve("worker");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--listen HOST:PORT is required") != std::string::npos);
  for (std::string bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ":8001", "127.0.0.1:port", "[::1:8001"}) {
    INFO(bad);
    r = run_pagedserve("worker --listen " + bad);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("--listen '" + bad + "'") != std::string::npos);
  }
  r = run_pagedserve("worker --listen 127.0.0.1:8001 --rank -1");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--rank must be in [0, 4095]") != std::string::npos);
  r = run_pagedserve("worker --listen 127.0.0.1:8001 --block-size 8");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--block-size") != std::string::npos);
  r = run_pagedserve("worker --listen 127.0.0.1:8001 --model " PAGEDSERVE_SOURCE_DIR "/models/none");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("models/none") != std::string::npos);

  r = run_pagedserve("serve --executor 127.0.0.1:8001 --executor 127.0.0.1:8002");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--tensor-parallel-size 1 x --pipeline-parallel-size 1 needs 1 workers") != std::string::npos);
  CHECK(r.output.find("2 given") != std::string::npos);
  r = run_pagedserve("serve --tensor-parallel-size 2 --pipeline-parallel-size 2 --executor 127.0.0.1:8001,127.0.0.1:8002");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("needs 4 workers, one --executor HOST:PORT per rank in rank order; 2 given") != std::string::npos);
  r = run_pagedserve("serve --tensor-parallel-size 2 --executor 127.0.0.1:8001 --executor 127.0.0.1:x");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--executor '127.0.0.1:x'") != std::string::npos);
  r = run_pagedserve("serve --executor localhost");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--executor 'localhost'") != std::string::npos);
}
