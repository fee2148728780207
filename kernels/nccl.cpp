// The run-time NCCL loader (kernels/nccl.hpp). The collective itself lives
// in the CUDA module (kernels/cuda/nccl_collective.cpp), which needs the
// CUDA runtime; the loader needs only dlopen, so the executable and the
// tests that have no GPU can ask whether NCCL is there.

#include "kernels/nccl.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>

#include "kernels/backend.hpp"

#ifdef PAGEDSERVE_HAVE_CUDA
#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <vector>
#endif

namespace pagedserve::kernels {

std::string nccl_version_string(int code) {
  // NCCL_VERSION(X, Y, Z): X * 1000 + Y * 100 + Z up to 2.8, then
  // X * 10000 + Y * 100 + Z (nccl.h).
  const bool wide = code >= 20900;
  const int major = wide ? code / 10000 : code / 1000;
  const int minor = wide ? code / 100 % 100 : code / 100 % 10;
  const int patch = code % 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string NcclLibrary::version_string() const { return nccl_version_string(version); }

std::string NcclLibrary::describe(nccl_abi::Result r, nccl_abi::CommHandle comm) const {
  std::string s = get_error_string ? get_error_string(r) : "NCCL error";
  s += " (" + std::to_string(r) + ")";
  if (get_last_error) {
    const char* last = get_last_error(comm);
    if (last && *last) s += ": " + std::string(last);
  }
  return s;
}

void NcclLibrary::check(nccl_abi::Result r, const char* call, nccl_abi::CommHandle comm) const {
  if (r != nccl_abi::kSuccess) throw std::runtime_error(std::string(call) + " failed: " + describe(r, comm));
}

NcclUniqueId NcclLibrary::unique_id() const {
  nccl_abi::UniqueId raw{};
  check(get_unique_id(&raw), "ncclGetUniqueId");
  NcclUniqueId id;
  std::copy(std::begin(raw.internal), std::end(raw.internal), id.internal.begin());
  return id;
}

#ifdef PAGEDSERVE_HAVE_CUDA
namespace {

// The directory of the CUDA runtime this process has loaded, if any.
std::optional<std::filesystem::path> loaded_cudart_dir() {
  std::optional<std::filesystem::path> found;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("/libcudart.so") == std::string::npos) return 0;
        *static_cast<std::optional<std::filesystem::path>*>(data) = std::filesystem::path(name).parent_path();
        return 1;
      },
      &found);
  return found;
}

template <class F>
void resolve(void* handle, const std::string& path, const char* symbol, F& fn, bool required = true) {
  ::dlerror();
  fn = reinterpret_cast<F>(::dlsym(handle, symbol));
  if (!fn && required) {
    const char* why = ::dlerror();
    throw std::runtime_error(path + " has no " + symbol + (why ? std::string(": ") + why : std::string()) +
                             " (is it NCCL 2.x?)");
  }
}

std::shared_ptr<const NcclLibrary> open_nccl(const std::string& requested) {
  std::vector<std::string> candidates;
  if (!requested.empty()) {
    candidates.push_back(requested);
  } else {
    candidates.emplace_back(kNcclLibraryName);
    if (const auto dir = loaded_cudart_dir()) {
      candidates.push_back((*dir / kNcclLibraryName).string());
      // pip's nvidia-* wheels: nvidia/cuda_runtime/lib beside nvidia/nccl/lib.
      candidates.push_back((dir->parent_path().parent_path() / "nccl" / "lib" / kNcclLibraryName).string());
    }
  }
  std::string errors;
  for (const auto& path : candidates) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      errors += (errors.empty() ? "" : "; ") + std::string(why ? why : path + ": not loadable");
      continue;
    }
    auto lib = std::make_shared<NcclLibrary>();
    lib->path = path;
    resolve(handle, path, "ncclGetVersion", lib->get_version);
    resolve(handle, path, "ncclGetUniqueId", lib->get_unique_id);
    resolve(handle, path, "ncclCommInitRank", lib->comm_init_rank);
    resolve(handle, path, "ncclAllReduce", lib->all_reduce);
    resolve(handle, path, "ncclAllGather", lib->all_gather);
    resolve(handle, path, "ncclCommAbort", lib->comm_abort);
    resolve(handle, path, "ncclCommDestroy", lib->comm_destroy);
    resolve(handle, path, "ncclGetErrorString", lib->get_error_string);
    resolve(handle, path, "ncclGetLastError", lib->get_last_error, false);
    lib->check(lib->get_version(&lib->version), "ncclGetVersion");
    if (lib->version < 21000)
      throw std::runtime_error(path + " is NCCL " + lib->version_string() +
                               ", older than 2.10 (the first with bf16 sums): use a newer one");
    return lib;
  }
  if (!requested.empty())
    throw std::runtime_error(requested + " (--nccl-library or PAGEDSERVE_NCCL_LIBRARY) could not be loaded: " + errors);
  throw std::runtime_error(std::string(kNcclLibraryName) +
                           " was not found (it comes with the CUDA toolkit or PyTorch's nvidia-nccl wheel; name the "
                           "file with --nccl-library or PAGEDSERVE_NCCL_LIBRARY): " + errors);
}

}  // namespace

std::shared_ptr<const NcclLibrary> load_nccl(const std::string& library) {
  std::string requested = library;
  if (requested.empty())
    if (const char* env = std::getenv("PAGEDSERVE_NCCL_LIBRARY"); env && *env) requested = env;
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const NcclLibrary>> loaded;
  std::lock_guard lock(mutex);
  if (auto it = loaded.find(requested); it != loaded.end()) return it->second;
  auto lib = open_nccl(requested);
  loaded.emplace(requested, lib);
  return lib;
}

#else

std::shared_ptr<const NcclLibrary> load_nccl(const std::string&) {
  throw std::invalid_argument(std::string("NCCL: ") + kNoCudaBackend);
}

std::unique_ptr<NcclCollective> make_nccl_collective(std::shared_ptr<const NcclLibrary>, Backend&, const NcclUniqueId&,
                                                     int, int) {
  throw std::invalid_argument(std::string("NCCL: ") + kNoCudaBackend);
}

#endif

}  // namespace pagedserve::kernels
