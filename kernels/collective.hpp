#pragma once
// The collectives that tensor parallelism needs, behind one small
// interface: each rank of a group holds a Collective and calls it at the
// same points of the same step. Implementations: ranks as threads of one
// process (here), processes over TCP (kernels/gloo/), GPUs over NCCL
// (kernels/nccl.hpp, in the CUDA module).
//
// Tensors are in the rank's backend memory, where it keeps activations:
// host memory for the CPU backend (the in-process and Gloo groups), the
// GPU's memory for the CUDA backend (NCCL), where every call is enqueued
// on the backend's compute stream in order with its kernels and returns
// before the transfer is done.

#include <memory>
#include <vector>

#include "kernels/tensor.hpp"

namespace pagedserve::kernels {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums `t` element by element over the ranks, in place; every rank ends
  // with the same bits. The CPU groups sum f32 in rank order; NCCL sums
  // f32, f16 or bf16 (the activation type) in an order of its own
  // (kernels/cuda/nccl_collective.hpp). Throws std::runtime_error once the
  // group is aborted.
  virtual void all_reduce_sum(Tensor t) = 0;
  // Every rank's `local` [rows, cols_r] side by side, in rank order, into
  // every rank's `out` [rows, sum of cols_r]: the vocab-parallel
  // classifier's logits. The activation type (f32 on the CPU). Throws like
  // all_reduce_sum.
  virtual void all_gather_columns(const Tensor& local, Tensor out) = 0;
};

// A group of ranks that can be aborted: a rank that fails aborts it, and
// every rank waiting in (or later entering) a collective throws instead of
// waiting for the failed one forever.
class CollectiveGroup {
 public:
  virtual ~CollectiveGroup() = default;
  virtual Collective& member(int rank) = 0;
  virtual int world_size() const = 0;
  virtual void abort() = 0;
};

// Ranks as threads of one process, meeting in shared memory.
std::shared_ptr<CollectiveGroup> make_in_process_group(int world_size);

}  // namespace pagedserve::kernels
