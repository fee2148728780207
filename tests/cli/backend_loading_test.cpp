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

namespace {

bool build_has_cuda() { return run_pagedserve("version").output.find("cuda (") != std::string::npos; }

}  // namespace

TEST_CASE("serve --device cuda --tensor-parallel-size 2 without NCCL names it and exits non-zero", "[cli][cuda][nccl]") {
  auto r = run_pagedserve("serve --port 18931 --device cuda --tensor-parallel-size 2 --nccl-library "
                          "/nonexistent/libnccl.so.2 --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K");
  INFO(r.output);
  CHECK(r.exit_code != 0);
  if (build_has_cuda()) {
    CHECK(r.output.find("--device cuda with --tensor-parallel-size 2 needs NCCL (libnccl.so.2): "
                        "/nonexistent/libnccl.so.2") != std::string::npos);
    CHECK(r.output.find("No such file or directory") != std::string::npos);
  } else {
    CHECK(r.output.find("no CUDA backend") != std::string::npos);
  }
}

TEST_CASE("a GPU split asks for one GPU a rank and says how many the host has", "[cli][cuda]") {
  // GPUs from cuda:1000 on: no host has them, whatever it has.
  auto r = run_pagedserve("generate --max-tokens 2 --device cuda:1000 --pipeline-parallel-size 2 --model " PAGEDSERVE_SOURCE_DIR
                          "/models/stories260K");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  if (build_has_cuda())
    CHECK(r.output.find("--device cuda:1000 with --pipeline-parallel-size 2 needs 2 GPUs, one a rank (cuda:1000 to "
                        "cuda:1001): this host has ") != std::string::npos);
  else
    CHECK(r.output.find("no CUDA backend") != std::string::npos);
}
