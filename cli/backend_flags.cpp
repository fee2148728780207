#include "cli/backend_flags.hpp"

#include <stdexcept>

namespace pagedserve::cli {

kernels::BackendOptions backend_options(const Args& args, const std::string& device, kernels::DType checkpoint) {
  kernels::BackendOptions o;
  try {
    o.activation = kernels::resolve_activation_dtype(args.get_or("dtype", "auto"), checkpoint, device);
  } catch (const std::invalid_argument& e) {
    throw CliError(std::string("--dtype: ") + e.what());
  }
  try {
    o.weights = kernels::resolve_weight_dtype(args.get_or("dtype", "auto"), args.get_or("quantization", "none"), device);
  } catch (const std::invalid_argument& e) {
    throw CliError(std::string("--quantization: ") + e.what());
  }
  const std::string kernel = args.get_or("attention-kernel", "fast");
  if (kernel != "fast" && kernel != "simple") throw CliError("--attention-kernel must be fast or simple");
  o.simple_attention = kernel == "simple";
  o.enforce_eager = args.flag("enforce-eager");
  return o;
}

}  // namespace pagedserve::cli
