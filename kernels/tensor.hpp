#pragma once
// Element types and non-owning tensor views shared by every backend.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace pagedserve::kernels {

enum class DType : std::uint8_t { f32, f16, bf16 };

constexpr std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }
std::string_view dtype_name(DType t);

// IEEE half / bfloat16 <-> float on the host (round to nearest even).
std::uint16_t float_to_half(float f);
float half_to_float(std::uint16_t h);
std::uint16_t float_to_bf16(float f);
float bf16_to_float(std::uint16_t b);
// Converts n elements of `src` (of type `from`) to float.
void convert_to_f32(const void* src, DType from, float* dst, std::size_t n);

// A dense row-major 2-D view [rows, cols] of memory that lives wherever its
// backend keeps data (host for the CPU backend, device for CUDA). Never owns.
struct Tensor {
  void* data = nullptr;
  DType dtype = DType::f32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;

  std::int64_t numel() const { return rows * cols; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype); }
  // Rows [first, first + count) of this tensor.
  Tensor row_slice(std::int64_t first, std::int64_t count) const {
    auto* base = static_cast<std::byte*>(data) + first * cols * static_cast<std::int64_t>(dtype_size(dtype));
    return Tensor{base, dtype, count, cols};
  }
};

// Backend memory that frees itself; shared so views can outlive a handle copy.
struct Buffer {
  std::shared_ptr<void> ptr;
  std::size_t bytes = 0;
  void* get() const { return ptr.get(); }
};

// A tensor together with the buffer that keeps it alive.
struct OwnedTensor {
  Buffer buffer;
  Tensor view;
};

}  // namespace pagedserve::kernels
