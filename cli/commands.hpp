#pragma once
// Every `pagedserve <command>`: each takes the arguments after its name and
// returns the process exit code. Errors are messages on stderr, never crashes.

#include <string>
#include <vector>

namespace pagedserve::cli {

struct Command {
  std::string name;
  std::string summary;
  int (*run)(int argc, char** argv);
};

// The commands this build offers, in the order `pagedserve --help` lists them.
const std::vector<Command>& commands();

int run_generate(int argc, char** argv);
int run_config(int argc, char** argv);
int run_serve(int argc, char** argv);
int run_worker(int argc, char** argv);
int run_admin(int argc, char** argv);
int run_version(int argc, char** argv);
int run_export_gguf(int argc, char** argv);
int run_tokenize(int argc, char** argv);

}  // namespace pagedserve::cli
