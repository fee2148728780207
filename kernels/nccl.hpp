#pragma once
// NCCL, the collectives between GPUs, loaded at run time. Debian 12 does
// not package it; it ships with the CUDA stack of GPU hosts (the CUDA
// toolkit's lib directory, or PyTorch's wheels). No nccl.h is needed to
// build: the few entry points used are declared here as NCCL's ABI has
// them (nccl.h of NCCL 2.x: ncclResult_t, ncclDataType_t, ncclRedOp_t are
// C enums, ncclUniqueId is 128 opaque bytes, ncclComm_t an opaque pointer).
//
// The library is found, in order:
//   1. the file `library` names (--nccl-library), or else
//      PAGEDSERVE_NCCL_LIBRARY: that file and no other;
//   2. "libnccl.so.2" by the dynamic loader's own search (LD_LIBRARY_PATH,
//      the ld.so cache: where the CUDA toolkit's packages register it);
//   3. beside the CUDA runtime this process has loaded (libcudart.so.*:
//      the CUDA module loads it), and where a pip-installed runtime's
//      sibling package keeps it (nvidia/cuda_runtime/lib ->
//      nvidia/nccl/lib, PyTorch's wheels).
// A GPU host whose NCCL comes with PyTorch only: point
// PAGEDSERVE_NCCL_LIBRARY (or --nccl-library) at
// site-packages/nvidia/nccl/lib/libnccl.so.2 (scripts/gpu-check.sh does).
//
// Everything here but the id type is part of the CUDA build only: a build
// without CUDA refuses by name.

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "kernels/collective.hpp"

namespace pagedserve::kernels {

class Backend;

// ncclUniqueId: what rank 0 of a communicator makes and every other rank
// needs to join it (an address to meet at, with a secret). A plain value,
// so it can travel in a message (actors/protocol.hpp gives it a type id).
struct NcclUniqueId {
  std::array<char, 128> internal{};
  friend bool operator==(const NcclUniqueId&, const NcclUniqueId&) = default;
};

// NCCL's ABI, as nccl.h declares it.
namespace nccl_abi {
using Result = int;                     // ncclResult_t: ncclSuccess = 0
inline constexpr Result kSuccess = 0;
inline constexpr Result kInProgress = 7;
using DataType = int;                   // ncclDataType_t
inline constexpr DataType kFloat16 = 6;  // ncclFloat16, ncclHalf
inline constexpr DataType kFloat32 = 7;  // ncclFloat32, ncclFloat
inline constexpr DataType kBfloat16 = 9; // ncclBfloat16 (NCCL 2.10 and later)
using RedOp = int;                      // ncclRedOp_t
inline constexpr RedOp kSum = 0;        // ncclSum
struct Comm;                            // struct ncclComm, opaque
using CommHandle = Comm*;               // ncclComm_t
struct UniqueId {                       // ncclUniqueId, passed by value
  char internal[128];
};
static_assert(sizeof(UniqueId) == 128);
}  // namespace nccl_abi

// The loaded library: its file, its version and the entry points used.
struct NcclLibrary {
  std::string path;  // the file that was loaded (as dlopen was given it)
  int version = 0;   // NCCL_VERSION_CODE: 22809 for 2.28.9 (older: 2.8.4 is 2804)
  // The entry points (NCCL 2.x signatures; cudaStream_t is a pointer).
  nccl_abi::Result (*get_version)(int*) = nullptr;
  nccl_abi::Result (*get_unique_id)(nccl_abi::UniqueId*) = nullptr;
  nccl_abi::Result (*comm_init_rank)(nccl_abi::CommHandle*, int nranks, nccl_abi::UniqueId id, int rank) = nullptr;
  nccl_abi::Result (*all_reduce)(const void* send, void* recv, std::size_t count, nccl_abi::DataType,
                                 nccl_abi::RedOp, nccl_abi::CommHandle, void* stream) = nullptr;
  nccl_abi::Result (*all_gather)(const void* send, void* recv, std::size_t send_count, nccl_abi::DataType,
                                 nccl_abi::CommHandle, void* stream) = nullptr;
  nccl_abi::Result (*comm_abort)(nccl_abi::CommHandle) = nullptr;
  nccl_abi::Result (*comm_destroy)(nccl_abi::CommHandle) = nullptr;
  const char* (*get_error_string)(nccl_abi::Result) = nullptr;
  // ncclGetLastError (NCCL 2.13 and later): null when the library lacks it.
  const char* (*get_last_error)(nccl_abi::CommHandle) = nullptr;

  // "2.28.9"
  std::string version_string() const;
  // The error's description: NCCL's name for the code, and its last error
  // message where the library keeps one.
  std::string describe(nccl_abi::Result r, nccl_abi::CommHandle comm = nullptr) const;
  // Throws std::runtime_error naming `call` unless r is success.
  void check(nccl_abi::Result r, const char* call, nccl_abi::CommHandle comm = nullptr) const;
  // A fresh id (ncclGetUniqueId): rank 0 makes one per communicator.
  NcclUniqueId unique_id() const;
};

// The file name the loader looks for.
inline constexpr const char* kNcclLibraryName = "libnccl.so.2";

// Loads NCCL (see the top of this file for where it looks) and resolves
// its entry points; loaded once per path and never unloaded. Throws
// std::runtime_error naming the library and each place's dlerror when it
// cannot be loaded or lacks an entry point, and std::invalid_argument in
// a build without CUDA.
std::shared_ptr<const NcclLibrary> load_nccl(const std::string& library = "");

// "2.28.9" from NCCL_VERSION_CODE (2.9 on: major * 10000 + minor * 100 +
// patch; before: major * 1000 + minor * 100 + patch).
std::string nccl_version_string(int code);

// One rank of a group of GPUs joined by an NCCL communicator. The data
// are in device memory, on the backend's compute stream: every call is
// enqueued there, in order with the kernels around it, and returns
// without waiting for the transfer (a later read of the result, which
// synchronizes the stream, waits for it).
class NcclCollective : public Collective {
 public:
  // ncclCommAbort: operations in flight on the device end (with garbage),
  // and every later call throws std::runtime_error. Callable from any
  // thread, once or more.
  virtual void abort() = 0;
};

// Rank `rank` of `world` GPU ranks that meet through `id` (made by rank 0
// with NcclLibrary::unique_id), on `backend`'s device and stream (a CUDA
// backend). Blocks until every rank of the group has called it (each from
// a thread or process of its own: ncclCommInitRank). Throws
// std::runtime_error with NCCL's reason, std::invalid_argument for a
// backend that is not CUDA's or a build without CUDA.
std::unique_ptr<NcclCollective> make_nccl_collective(std::shared_ptr<const NcclLibrary> library, Backend& backend,
                                                     const NcclUniqueId& id, int rank, int world);

}  // namespace pagedserve::kernels
