// The CUDA backend is a module loaded only when a CUDA device is asked for:
// the executable itself needs neither the CUDA runtime nor cuBLAS, so a
// CPU-only start (`version`, serving on the CPU) never loads them.

#include <catch2/catch.hpp>
#include <string>

#include "cli/run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("pagedserve does not link the CUDA runtime or cuBLAS", "[cli][cuda]") {
  FILE* pipe = ::popen(("ldd " + std::string(PAGEDSERVE_BINARY) + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  INFO(out);
  REQUIRE(out.find("libc.so") != std::string::npos);  // ldd did read the binary
  CHECK(out.find("libcublas") == std::string::npos);
  CHECK(out.find("libcudart") == std::string::npos);
}

TEST_CASE("a CUDA device that cannot be had is a clear error, not a crash", "[cli][cuda]") {
  CHECK(run_pagedserve("version").exit_code == 0);
  auto r = run_pagedserve("generate --device cuda:7 --max-tokens 2 --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK((r.output.find("CUDA") != std::string::npos || r.output.find("cuda") != std::string::npos));
}
