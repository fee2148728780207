// NCCL is loaded at run time (kernels/nccl.hpp): a library that is not
// there, or is not NCCL, is refused with the file and the loader's reason;
// where libnccl.so.2 loads (this machine's CUDA toolkit has one, a GPU
// host's CUDA or PyTorch install too), it tells a plausible version.

#include "kernels/nccl.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

using namespace pagedserve::kernels;

TEST_CASE("NCCL's version code reads as major.minor.patch", "[nccl]") {
  CHECK(nccl_version_string(22809) == "2.28.9");
  CHECK(nccl_version_string(21003) == "2.10.3");
  CHECK(nccl_version_string(20903) == "2.9.3");
  CHECK(nccl_version_string(2804) == "2.8.4");  // the old encoding, before 2.9
}

#ifdef PAGEDSERVE_HAVE_CUDA

namespace {

std::string load_error(const std::string& library) {
  try {
    load_nccl(library);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("NCCL named by a file that is not there is refused with the file and dlerror", "[nccl]") {
  const auto why = load_error("/nonexistent/libnccl.so.2");
  INFO(why);
  CHECK(why.find("/nonexistent/libnccl.so.2 (--nccl-library or PAGEDSERVE_NCCL_LIBRARY) could not be loaded") == 0);
  CHECK(why.find("No such file or directory") != std::string::npos);  // dlerror's own words
}

TEST_CASE("PAGEDSERVE_NCCL_LIBRARY names the file when no setting does", "[nccl]") {
  ::setenv("PAGEDSERVE_NCCL_LIBRARY", "/nonexistent/by-env/libnccl.so.2", 1);
  const auto why = load_error("");
  ::unsetenv("PAGEDSERVE_NCCL_LIBRARY");
  INFO(why);
  CHECK(why.find("/nonexistent/by-env/libnccl.so.2") == 0);
}

TEST_CASE("a library that is not NCCL is refused by the entry point it lacks", "[nccl]") {
  const auto why = load_error("libm.so.6");
  INFO(why);
  CHECK(why.find("libm.so.6 has no ncclGetVersion") == 0);
}

TEST_CASE("where libnccl.so.2 loads, it tells a plausible NCCL 2 version", "[nccl]") {
  std::shared_ptr<const NcclLibrary> lib;
  try {
    lib = load_nccl();
  } catch (const std::runtime_error& e) {
    // Not an error of ours: the message must say what was looked for.
    CHECK(std::string(e.what()).find("libnccl.so.2 was not found") == 0);
    WARN("no NCCL on this host: " << e.what());
    return;
  }
  INFO(lib->path << ": NCCL " << lib->version_string());
  CHECK(lib->version >= 21000);  // 2.10 or later: the loader refuses older ones
  CHECK(lib->version < 30000);   // NCCL 2.x: the ABI declared here
  CHECK(lib->version_string().rfind("2.", 0) == 0);
  CHECK(load_nccl() == lib);  // loaded once
  CHECK(lib->describe(nccl_abi::kInProgress).find("(7)") != std::string::npos);
  // An id is NCCL's bootstrap address and a random magic: no GPU needed,
  // and no two alike.
  const auto a = lib->unique_id(), b = lib->unique_id();
  CHECK(a != b);
  CHECK(a != NcclUniqueId{});
}

#else

TEST_CASE("a build without CUDA refuses NCCL by name", "[nccl]") {
  CHECK_THROWS_WITH(load_nccl(), Catch::Contains("no CUDA backend"));
}

#endif
