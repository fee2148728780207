#include "cli/commands.hpp"

#include <cstdio>

#include "cli/args.hpp"
#include "cli/bench.hpp"
#include "kernels/backend.hpp"

namespace pagedserve::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"generate", "generate text from prompts (offline, batched)", run_generate},
      {"serve", "run the OpenAI-compatible HTTP / WebSocket server", run_serve},
      {"worker", "run a model's executor for a server in another process (serve --executor)", run_worker},
      {"admin", "interactive console for a running server's admin views", run_admin},
      {"bench", "benchmarks: throughput, kernels, serving, memory (see pagedserve bench --help)", run_bench},
      {"export-gguf", "write a model as a GGUF file for llama.cpp (same weights, its conventions)", run_export_gguf},
      {"tokenize", "a tokenizer.json's ids and decoded text for lines of input", run_tokenize},
      {"config", "print the settings and defaults, or check a config file", run_config},
      {"version", "print the version and the backends this build has", run_version},
  };
  return table;
}

int run_version(int argc, char** argv) {
  Args args(argc, argv, {});
  if (args.answered_help("usage: pagedserve version\n  prints the version and the backends this build has\n")) return 0;
  args.reject_unknown({});
  std::printf("pagedserve %s\nbackends: %s\n", PAGEDSERVE_VERSION, kernels::available_backends().c_str());
  return 0;
}

}  // namespace pagedserve::cli
