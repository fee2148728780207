// The one translation unit that holds Catch2's main.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#ifdef PAGEDSERVE_CUDA_MODULE_FILE
#include <cstdlib>
#include <filesystem>

namespace {

// The test executables sit in build/tests, the CUDA module in build/: an
// engine a test starts on a CUDA device (or that asks how many there are)
// finds it here, as the executable finds it beside itself.
const bool cuda_module_found = [] {
  std::error_code ec;
  if (!std::getenv("PAGEDSERVE_CUDA_MODULE_PATH") && std::filesystem::exists(PAGEDSERVE_CUDA_MODULE_FILE, ec))
    ::setenv("PAGEDSERVE_CUDA_MODULE_PATH", PAGEDSERVE_CUDA_MODULE_FILE, 0);
  return true;
}();

}  // namespace
#endif
