#include "kernels/backend.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/nccl.hpp"
#include "kernels/sampling_twin.hpp"
#ifdef PAGEDSERVE_HAVE_CUDA
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "kernels/cuda/cuda_backend.hpp"
#endif

namespace pagedserve::kernels {

#ifdef PAGEDSERVE_HAVE_CUDA
namespace {

using MakeCudaBackend = Backend* (*)(const CudaBackendOptions*);

// The CUDA module: PAGEDSERVE_CUDA_MODULE_PATH if set, else beside the
// executable (build tree, bundle), else where it is installed. Loaded once,
// on the first CUDA device (or CUDA question) asked for, and never unloaded.
void* cuda_module_handle() {
  static void* const handle = [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("PAGEDSERVE_CUDA_MODULE_PATH"); env && *env) candidates.emplace_back(env);
    std::error_code ec;
    const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    if (!ec) {
      candidates.push_back((exe_dir / PAGEDSERVE_CUDA_MODULE).string());
      candidates.push_back((exe_dir / PAGEDSERVE_CUDA_MODULE_INSTALLED_DIR / PAGEDSERVE_CUDA_MODULE).string());
    }
    std::string errors;
    for (const auto& path : candidates) {
      if (!std::filesystem::exists(path, ec)) continue;
      if (void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        if (::dlsym(h, "pagedserve_cuda_make_backend")) return h;
      }
      errors += std::string("; ") + ::dlerror();
    }
    throw std::invalid_argument(std::string("the CUDA backend (") + PAGEDSERVE_CUDA_MODULE + ") could not be loaded" +
                                (errors.empty() ? ": it is not beside the executable nor installed" : errors));
  }();
  return handle;
}

template <class F>
F cuda_module_entry(const char* name) {
  if (auto* fn = reinterpret_cast<F>(::dlsym(cuda_module_handle(), name))) return fn;
  throw std::invalid_argument(std::string("the CUDA backend (") + PAGEDSERVE_CUDA_MODULE + ") lacks " + name +
                              ": it is not this executable's build");
}

MakeCudaBackend cuda_module() {
  static const MakeCudaBackend make = cuda_module_entry<MakeCudaBackend>("pagedserve_cuda_make_backend");
  return make;
}

}  // namespace
#endif

OwnedTensor Backend::allocate_tensor(DType dtype, std::int64_t rows, std::int64_t cols) {
  OwnedTensor t;
  t.buffer = allocate(static_cast<std::size_t>(rows) * row_bytes(dtype, cols));
  t.view = Tensor{t.buffer.get(), dtype, rows, cols};
  return t;
}

void Backend::sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out) {
  std::vector<float> host(static_cast<std::size_t>(logits.numel()));
  to_host_f32(logits, host);
  sample_on_host(host, logits.cols, batch, out);
}

OwnedTensor Backend::upload_weight(const HostTensorView& host) {
  OwnedTensor t = allocate_tensor(weight_dtype_for(host.rows, host.cols), host.rows, host.cols);
  upload_weight_into(host, t.view);
  return t;
}

OwnedTensor Backend::upload_stacked(std::span<const HostTensorView> parts) {
  if (parts.empty()) throw std::invalid_argument("upload_stacked: no parts");
  std::int64_t rows = 0;
  for (const auto& p : parts) {
    if (p.cols != parts.front().cols) throw std::invalid_argument("upload_stacked: parts of different widths");
    rows += p.rows;
  }
  OwnedTensor t = allocate_tensor(weight_dtype_for(rows, parts.front().cols), rows, parts.front().cols);
  std::int64_t at = 0;
  for (const auto& p : parts) {
    upload_weight_into(p, t.view.row_slice(at, p.rows));
    at += p.rows;
  }
  return t;
}

// Recorded steps are an option of a backend; these are never reached on
// one without (supports_graphs() is false).
std::unique_ptr<StepBatch> Backend::prepare_fixed(const BatchMetadata&, int) {
  throw std::logic_error(name() + " does not record steps");
}
void Backend::begin_capture() { throw std::logic_error(name() + " does not record steps"); }
void Backend::end_capture(int) { throw std::logic_error(name() + " does not record steps"); }
bool Backend::has_graph(int) const { return false; }
void Backend::replay(int) { throw std::logic_error(name() + " does not record steps"); }

void Backend::embedding_rows(const Tensor&, std::int32_t, const StepBatch&, Tensor) {
  throw std::invalid_argument("the " + name() + " backend has no vocab-parallel embedding: tensor parallelism runs on --device cpu");
}

void Backend::from_host_f32(std::span<const float>, Tensor) {
  throw std::invalid_argument("the " + name() + " backend does not take hidden states from the host: pipeline parallelism runs on --device cpu");
}

void Backend::add_rms_norm(Tensor x, const Tensor& residual, const Tensor& weight, float eps, Tensor out) {
  add(x, residual);
  rms_norm(x, weight, eps, out);
}

void Backend::head_rms_norm(Tensor x, const Tensor& weight, float eps) {
  const std::int64_t hs = weight.numel();
  if (hs <= 0 || x.cols % hs != 0) throw std::invalid_argument("head_rms_norm: rows are not whole heads");
  const Tensor heads{x.data, x.dtype, x.rows * (x.cols / hs), hs};
  rms_norm(heads, Tensor{weight.data, weight.dtype, 1, hs}, eps, heads);
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
  if (cpu && *dtype == DType::f16)
    throw std::invalid_argument("dtype f16: the CPU backend computes in f32 and keeps weights in f32, bf16 or int8");
  return cpu ? DType::f32 : *dtype;
}

std::optional<DType> resolve_weight_dtype(const std::string& dtype_flag, const std::string& quantization,
                                          const std::string& device) {
  const bool cpu = device == "cpu";
  if (quantization == "int8") {
    if (!cpu) throw std::invalid_argument("quantization int8: only the CPU backend keeps int8 weights");
    return DType::q8_0;
  }
  if (quantization != "none") throw std::invalid_argument("quantization '" + quantization + "' is not one of none, int8");
  if (!cpu) return std::nullopt;
  return parse_dtype(dtype_flag) == DType::bf16 ? DType::bf16 : DType::f32;
}

int cuda_device_index(const std::string& device) {
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5 || device.size() > 9 ||
      device.find_first_not_of("0123456789", 5) != std::string::npos)
    throw std::invalid_argument("device '" + device + "' is not of the form cuda or cuda:N");
  return std::stoi(device.substr(5));
}

std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& options) {
  const auto& activation = options.activation;
  if (device == "cpu") {
    if (activation && *activation != DType::f32)
      throw std::invalid_argument("dtype " + std::string(dtype_name(*activation)) + ": the CPU backend computes in f32");
    return make_cpu_backend(options.weights.value_or(DType::f32));
  }
  if (device.rfind("cuda", 0) == 0) {
    const int index = cuda_device_index(device);
#ifdef PAGEDSERVE_HAVE_CUDA
    CudaBackendOptions cuda;
    cuda.device = index;
    cuda.activation_dtype = activation.value_or(DType::f16);
    cuda.attention_kernel = options.simple_attention ? AttentionKernel::simple : AttentionKernel::fast;
    cuda.graphs = !options.enforce_eager;
    return std::unique_ptr<Backend>(cuda_module()(&cuda));
#else
    (void)index;
    throw std::invalid_argument("device '" + device + "': " + kNoCudaBackend);
#endif
  }
  throw std::invalid_argument("unknown device '" + device + "' (expected cpu or cuda:N)");
}

std::string available_backends() {
#ifdef PAGEDSERVE_HAVE_CUDA
  std::string archs;  // "80,89,90" -> "sm_80, sm_89, sm_90"
  for (std::size_t at = 0; at != std::string::npos;) {
    const std::string_view all = PAGEDSERVE_CUDA_ARCHS;
    const std::size_t next = all.find(',', at);
    archs += (archs.empty() ? "sm_" : ", sm_") + std::string(all.substr(at, next == std::string::npos ? next : next - at));
    at = next == std::string::npos ? next : next + 1;
  }
  return "cpu, cuda (" + archs + ")";
#else
  return "cpu";
#endif
}

CudaDevices find_cuda_devices() {
#ifdef PAGEDSERVE_HAVE_CUDA
  using Probe = void (*)(int*, std::string*);
  CudaDevices d;
  cuda_module_entry<Probe>("pagedserve_cuda_probe")(&d.count, &d.error);
  return d;
#else
  return {0, kNoCudaBackend};
#endif
}

#ifdef PAGEDSERVE_HAVE_CUDA
std::unique_ptr<NcclCollective> make_nccl_collective(std::shared_ptr<const NcclLibrary> library, Backend& backend,
                                                     const NcclUniqueId& id, int rank, int world) {
  using Make = NcclCollective* (*)(const std::shared_ptr<const NcclLibrary>*, Backend*, const NcclUniqueId*, int, int);
  static const Make make = cuda_module_entry<Make>("pagedserve_cuda_make_nccl_collective");
  return std::unique_ptr<NcclCollective>(make(&library, &backend, &id, rank, world));
}
#endif

}  // namespace pagedserve::kernels
