#include "kernels/backend.hpp"

#include <stdexcept>
#include <vector>

#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/sampling_twin.hpp"
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

void Backend::sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out) {
  std::vector<float> host(static_cast<std::size_t>(logits.numel()));
  to_host_f32(logits, host);
  sample_on_host(host, logits.cols, batch, out);
}

std::unique_ptr<Backend> make_backend(const std::string& device) {
  if (device == "cpu") return make_cpu_backend();
  if (device.rfind("cuda", 0) == 0) {
    int index = 0;
    if (device.size() > 4) {
      if (device[4] != ':' || device.size() == 5 || device.find_first_not_of("0123456789", 5) != std::string::npos)
        throw std::invalid_argument("device '" + device + "' is not of the form cuda or cuda:N");
      index = std::stoi(device.substr(5));
    }
#ifdef PAGEDSERVE_HAVE_CUDA
    return make_cuda_backend(index);
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
