#pragma once
// The flags that choose how a model runs on its device, shared by the
// commands that load one: --dtype auto|f32|f16|bf16, --quantization
// none|int8 and --attention-kernel fast|simple.

#include <string>

#include "cli/args.hpp"
#include "kernels/backend.hpp"

namespace pagedserve::cli {

inline constexpr const char* kBackendFlagsHelp =
    "  --dtype auto|f32|f16|bf16    activations and KV cache (default auto: the checkpoint's; f32 -> f16 on a GPU);\n"
    "                               on the CPU the weights' type (f32 or bf16; it computes in f32)\n"
    "  --quantization none|int8     CPU: int8 weights, one scale per group of 32 (default none)\n"
    "  --attention-kernel fast|simple  CUDA PagedAttention kernel (default fast; simple is the known-good fallback)\n"
    "  --enforce-eager              CUDA: no recorded (graph) decode steps\n";

// Throws CliError naming the flag for a bad value or a type the device
// cannot run. `checkpoint` is the type the weights were stored in.
kernels::BackendOptions backend_options(const Args& args, const std::string& device, kernels::DType checkpoint);

}  // namespace pagedserve::cli
