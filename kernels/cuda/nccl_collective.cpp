#include "kernels/cuda/nccl_collective.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/cuda_check.hpp"

namespace pagedserve::kernels::cuda {

namespace {

nccl_abi::DataType nccl_type(DType t) {
  switch (t) {
    case DType::f32: return nccl_abi::kFloat32;
    case DType::f16: return nccl_abi::kFloat16;
    case DType::bf16: return nccl_abi::kBfloat16;
    default: break;
  }
  throw std::invalid_argument("NCCL collectives take f32, f16 or bf16 tensors, not " + std::string(dtype_name(t)));
}

class NcclCommunicator final : public NcclCollective {
 public:
  NcclCommunicator(std::shared_ptr<const NcclLibrary> library, Backend& backend, const NcclUniqueId& id, int rank,
                   int world)
      : lib_(std::move(library)), place_(cuda_place_of(backend)), rank_(rank), world_(world) {
    if (!lib_) throw std::invalid_argument("an NCCL collective needs the loaded library");
    if (world < 1 || rank < 0 || rank >= world)
      throw std::invalid_argument("rank " + std::to_string(rank) + " is not in an NCCL group of " + std::to_string(world));
    PS_CUDA_CHECK(cudaSetDevice(place_.device));  // ncclCommInitRank joins the current device
    nccl_abi::UniqueId raw;
    std::memcpy(raw.internal, id.internal.data(), sizeof raw.internal);
    lib_->check(lib_->comm_init_rank(&comm_, world, raw, rank), "ncclCommInitRank");
  }

  // The executor ends after its last step, which read its results back
  // (nothing of it is in flight), and the backend may be gone already: the
  // communicator is freed by ncclCommAbort, which needs no word from the
  // others (ncclCommDestroy may wait for peers that a group torn down from
  // one thread, one rank after the other, would never show it).
  ~NcclCommunicator() override {
    if (!released_.exchange(true)) {
      cudaSetDevice(place_.device);
      lib_->comm_abort(comm_);
    }
    if (scratch_) {
      cudaSetDevice(place_.device);
      cudaFree(scratch_);
    }
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  // In place, on the compute stream: ncclAllReduce with sendbuff == recvbuff.
  void all_reduce_sum(Tensor t) override {
    const auto type = nccl_type(t.dtype);
    enter("all_reduce_sum");
    if (t.numel() == 0) return;
    lib_->check(lib_->all_reduce(t.data, t.data, static_cast<std::size_t>(t.numel()), type, nccl_abi::kSum, comm_,
                                 stream()),
                "ncclAllReduce", comm_);
  }

  // Rank j's part is the columns [cols * j / world, cols * (j + 1) / world)
  // of `out` (model::vocab_range's split). NCCL gathers equal counts, so
  // each part goes out padded to the widest one ([rows, width]), and the
  // gathered parts are placed as columns with one strided copy each.
  void all_gather_columns(const Tensor& local, Tensor out) override {
    const auto type = nccl_type(out.dtype);
    if (local.dtype != out.dtype) throw std::invalid_argument("all_gather_columns: the part and the output differ in type");
    if (local.rows != out.rows || local.cols != part_cols(out.cols, rank_))
      throw std::logic_error("all_gather_columns: rank " + std::to_string(rank_) + "'s part is [" +
                             std::to_string(local.rows) + ", " + std::to_string(local.cols) + "], not its columns of [" +
                             std::to_string(out.rows) + ", " + std::to_string(out.cols) + "]");
    enter("all_gather_columns");
    if (out.rows == 0 || out.cols == 0) return;
    const std::size_t elem = dtype_size(out.dtype);
    std::int64_t width = 0;
    for (int j = 0; j < world_; ++j) width = std::max(width, part_cols(out.cols, j));
    const std::size_t part_bytes = static_cast<std::size_t>(out.rows * width) * elem;
    auto* send = static_cast<std::byte*>(scratch(part_bytes * (world_ + 1)));
    auto* recv = send + part_bytes;
    cudaStream_t s = stream();
    if (local.cols > 0)
      PS_CUDA_CHECK(cudaMemcpy2DAsync(send, width * elem, local.data, local.cols * elem, local.cols * elem, local.rows,
                                      cudaMemcpyDeviceToDevice, s));
    lib_->check(lib_->all_gather(send, recv, static_cast<std::size_t>(out.rows * width), type, comm_, s),
                "ncclAllGather", comm_);
    for (int j = 0; j < world_; ++j) {
      const std::int64_t first = out.cols * j / world_, cols = part_cols(out.cols, j);
      if (cols == 0) continue;
      PS_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<std::byte*>(out.data) + first * elem, out.cols * elem,
                                      recv + j * part_bytes, width * elem, cols * elem, out.rows,
                                      cudaMemcpyDeviceToDevice, s));
    }
  }

  // ncclCommAbort, from whichever thread saw a rank fail: it ends this
  // rank's operations in flight (a rank waiting for a peer that will not
  // come stops waiting) and frees the communicator. NCCL documents abort
  // as the way out of a hang, callable while another thread is inside an
  // NCCL call on the communicator (PyTorch's watchdog does just that).
  void abort() override {
    aborted_.store(true);
    if (!released_.exchange(true)) {
      cudaSetDevice(place_.device);
      lib_->comm_abort(comm_);
    }
  }

 private:
  static std::int64_t part_cols(std::int64_t cols, int j, int world) { return cols * (j + 1) / world - cols * j / world; }
  std::int64_t part_cols(std::int64_t cols, int j) const { return part_cols(cols, j, world_); }
  cudaStream_t stream() const { return static_cast<cudaStream_t>(place_.stream); }

  // Every operation starts here: on this rank's device, never on a
  // communicator that an abort has freed.
  void enter(const char* what) {
    if (aborted_.load())
      throw std::runtime_error(std::string(what) + ": the tensor-parallel group was aborted: a rank failed");
    PS_CUDA_CHECK(cudaSetDevice(place_.device));
  }

  // Device scratch, grown (rarely) between steps: the old one may still be
  // read by a queued copy, so the stream drains first.
  void* scratch(std::size_t bytes) {
    if (bytes <= scratch_bytes_) return scratch_;
    PS_CUDA_CHECK(cudaStreamSynchronize(stream()));
    if (scratch_) PS_CUDA_CHECK(cudaFree(scratch_));
    scratch_ = nullptr;
    scratch_bytes_ = 0;
    const cudaError_t err = cudaMalloc(&scratch_, bytes);
    if (err != cudaSuccess) {
      cudaGetLastError();
      scratch_ = nullptr;
      throw std::runtime_error("cannot allocate " + std::to_string(bytes) + " bytes for the logits' gather on cuda:" +
                               std::to_string(place_.device) + ": " + cudaGetErrorString(err));
    }
    scratch_bytes_ = bytes;
    return scratch_;
  }

  std::shared_ptr<const NcclLibrary> lib_;
  CudaPlace place_;
  int rank_, world_;
  nccl_abi::CommHandle comm_ = nullptr;
  std::atomic<bool> aborted_{false};   // every later operation throws
  std::atomic<bool> released_{false};  // the communicator is freed (aborted or destroyed)
  void* scratch_ = nullptr;            // all_gather_columns: the padded part, then every rank's
  std::size_t scratch_bytes_ = 0;
};

}  // namespace

std::unique_ptr<NcclCollective> make_nccl_collective(std::shared_ptr<const NcclLibrary> library, Backend& backend,
                                                     const NcclUniqueId& id, int rank, int world) {
  return std::make_unique<NcclCommunicator>(std::move(library), backend, id, rank, world);
}

}  // namespace pagedserve::kernels::cuda
