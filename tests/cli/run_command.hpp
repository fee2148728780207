#pragma once
// Runs the built pagedserve binary and captures what it prints.

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace pagedserve::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_pagedserve(const std::string& args) {
  CommandResult r;
  std::string cmd = std::string(PAGEDSERVE_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace pagedserve::testing
