#include "kernels/backend.hpp"

#include <stdexcept>

#include "kernels/cpu/cpu_backend.hpp"
#ifdef PAGEDSERVE_HAVE_CUDA
#include "kernels/cuda/cuda_backend.hpp"
#endif

namespace pagedserve::kernels {

OwnedTensor Backend::allocate_tensor(DType dtype, std::int64_t rows, std::int64_t cols) {
  OwnedTensor t;
  t.buffer = allocate(static_cast<std::size_t>(rows * cols) * dtype_size(dtype));
  t.view = Tensor{t.buffer.get(), dtype, rows, cols};
  return t;
}

std::optional<DType> parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32" || name == "float") return DType::f32;
  if (name == "f16" || name == "float16" || name == "half") return DType::f16;
  if (name == "bf16" || name == "bfloat16") return DType::bf16;
  return std::nullopt;
}

DType resolve_activation_dtype(const std::string& flag, DType checkpoint, const std::string& device) {
  const bool cpu = device == "cpu";
  if (flag == "auto") return cpu ? DType::f32 : checkpoint == DType::f32 ? DType::f16 : checkpoint;
  const auto dtype = parse_dtype(flag);
  if (!dtype) throw std::invalid_argument("dtype '" + flag + "' is not one of auto, f32, f16, bf16");
  if (cpu && *dtype != DType::f32)
    throw std::invalid_argument("dtype " + std::string(dtype_name(*dtype)) + ": the CPU backend computes in f32");
  return *dtype;
}

std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& options) {
  const auto& activation = options.activation;
  if (device == "cpu") {
    if (activation && *activation != DType::f32)
      throw std::invalid_argument("dtype " + std::string(dtype_name(*activation)) + ": the CPU backend computes in f32");
    return make_cpu_backend();
  }
  if (device.rfind("cuda", 0) == 0) {
    int index = 0;
    if (device.size() > 4) {
      if (device[4] != ':' || device.size() == 5 || device.find_first_not_of("0123456789", 5) != std::string::npos)
        throw std::invalid_argument("device '" + device + "' is not of the form cuda or cuda:N");
      index = std::stoi(device.substr(5));
    }
#ifdef PAGEDSERVE_HAVE_CUDA
    CudaBackendOptions cuda;
    cuda.device = index;
    cuda.activation_dtype = activation.value_or(DType::f16);
    cuda.attention_kernel = options.simple_attention ? AttentionKernel::simple : AttentionKernel::fast;
    return make_cuda_backend(cuda);
#else
    (void)index;
    throw std::invalid_argument("device '" + device + "': this build has no CUDA backend (nvcc was not found at build time)");
#endif
  }
  throw std::invalid_argument("unknown device '" + device + "' (expected cpu or cuda:N)");
}

std::string available_backends() {
#ifdef PAGEDSERVE_HAVE_CUDA
  return std::string("cpu, cuda (sm_") + PAGEDSERVE_CUDA_ARCHS + ")";
#else
  return "cpu";
#endif
}

}  // namespace pagedserve::kernels
