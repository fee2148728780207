#pragma once
// The collectives that tensor parallelism needs, behind one small
// interface: each rank of a group holds a Collective and calls it at the
// same points of the same step. Implementations: ranks as threads of one
// process (here); processes and GPUs come behind the same calls.

#include <memory>
#include <vector>

#include "kernels/tensor.hpp"

namespace pagedserve::kernels {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums `t` element by element over the ranks, in rank order, so every
  // rank ends with the same bits. f32 in host memory. Throws
  // std::runtime_error once the group is aborted.
  virtual void all_reduce_sum(Tensor t) = 0;
  // Every rank's `local` [rows, cols_r] side by side, in rank order, into
  // every rank's `out` [rows, sum of cols_r]: the vocab-parallel
  // classifier's logits. f32 in host memory. Throws like all_reduce_sum.
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
