#pragma once
// The collectives of a tensor-parallel group whose ranks are GPUs: NCCL
// (loaded at run time, kernels/nccl.hpp) on each rank's device memory and
// compute stream. Part of the CUDA module; the executable reaches it
// through kernels::make_nccl_collective.
//
// What NCCL guarantees about the sums: every rank ends with the same bits
// at the same offset ("once the sum is complete, it will be transmitted
// unchanged to all GPUs ... all ranks should get the same value, always":
// NCCL's maintainer, https://github.com/NVIDIA/nccl/issues/855 and #434;
// with NVLink SHARP too, #1497). So the last stage's ranks still sample
// the same tokens from the same logits, which the executor checks each
// step. What it does not guarantee: the order of the additions. It
// follows the algorithm NCCL picks for the size and topology (ring,
// tree, NVLS), not rank order, so the bits differ from the in-process and
// Gloo groups' rank-order sums (and from TP 1), may differ between
// buffer sizes (#157), and with NVLS between calls (#1497). Greedy
// outputs of a split model on GPUs therefore match the unsplit model's to
// rounding, not bit for bit, and f16/bf16 activations are summed in their
// own type as NCCL reduces them.

#include <memory>

#include "kernels/backend.hpp"
#include "kernels/nccl.hpp"

namespace pagedserve::kernels::cuda {

// kernels::make_nccl_collective's body; `backend` must be this module's
// CUDA backend and outlive the collective.
std::unique_ptr<NcclCollective> make_nccl_collective(std::shared_ptr<const NcclLibrary> library, Backend& backend,
                                                     const NcclUniqueId& id, int rank, int world);

}  // namespace pagedserve::kernels::cuda
