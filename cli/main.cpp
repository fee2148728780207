// pagedserve: dispatches to the command named by the first argument.

#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log.hpp"

namespace {

void print_usage() {
  std::printf("usage: pagedserve <command> [options]\n\ncommands:\n");
  for (const auto& c : pagedserve::cli::commands()) std::printf("  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\n`pagedserve <command> --help` describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) return pagedserve::cli::run_version(0, nullptr);
  for (const auto& c : pagedserve::cli::commands()) {
    if (c.name != argv[1]) continue;
    try {
      return c.run(argc - 2, argv + 2);
    } catch (const pagedserve::cli::CliError& e) {
      std::fprintf(stderr, "%spagedserve %s: %s\n", pagedserve::cli::journal_error_prefix(), argv[1], e.what());
      return pagedserve::cli::kExitConfigError;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%spagedserve %s: error: %s\n", pagedserve::cli::journal_error_prefix(), argv[1], e.what());
      return pagedserve::cli::kExitFailure;
    }
  }
  std::fprintf(stderr, "%spagedserve: unknown command '%s' (see pagedserve --help)\n",
               pagedserve::cli::journal_error_prefix(), argv[1]);
  return pagedserve::cli::kExitConfigError;
}
