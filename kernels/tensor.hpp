#pragma once
// Element types and non-owning tensor views shared by every backend.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace pagedserve::kernels {

// q8_0 is a weight-only format of the CPU backend (like llama.cpp's Q8_0):
// each row holds one f32 scale per group of kQ8GroupSize values, then the
// values as int8 (value = scale * q). The last group of a row may be short.
enum class DType : std::uint8_t { f32, f16, bf16, q8_0 };

inline constexpr std::int64_t kQ8GroupSize = 32;

// Bytes of one element; for q8_0 the int8 alone (its scales: row_bytes).
constexpr std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : t == DType::q8_0 ? 1 : 2; }
constexpr std::int64_t q8_groups(std::int64_t cols) { return (cols + kQ8GroupSize - 1) / kQ8GroupSize; }
// Bytes of one row of `cols` elements. A q8_0 row's int8 part is padded to
// 4 bytes so that the next row's scales stay aligned.
constexpr std::size_t row_bytes(DType t, std::int64_t cols) {
  if (t == DType::q8_0) return static_cast<std::size_t>(4 * q8_groups(cols) + (cols + 3) / 4 * 4);
  return static_cast<std::size_t>(cols) * dtype_size(t);
}
std::string_view dtype_name(DType t);

// IEEE half / bfloat16 <-> float on the host (round to nearest even).
std::uint16_t float_to_half(float f);
float half_to_float(std::uint16_t h);
std::uint16_t float_to_bf16(float f);
float bf16_to_float(std::uint16_t b);
// Converts n elements of `src` (of type `from`) to float.
// Converts n elements of `src` (of type `from`) to float (not q8_0: its
// rows are converted by the functions below).
void convert_to_f32(const void* src, DType from, float* dst, std::size_t n);
// One q8_0 row of `cols` values (row_bytes(q8_0, cols) at `dst`): each group
// scaled by its largest magnitude / 127, values rounded to nearest.
void quantize_q8_0_row(const float* src, std::int64_t cols, void* dst);
void dequantize_q8_0_row(const void* src, std::int64_t cols, float* dst);
// One row of `cols` floats to any type (f16 and bf16 round to nearest even).
void convert_row_from_f32(const float* src, DType to, std::int64_t cols, void* dst);
// `rows` rows of any type, q8_0 included, to float.
void convert_rows_to_f32(const void* src, DType from, std::int64_t rows, std::int64_t cols, float* dst);

// A dense row-major 2-D view [rows, cols] of memory that lives wherever its
// backend keeps data (host for the CPU backend, device for CUDA). Never owns.
struct Tensor {
  void* data = nullptr;
  DType dtype = DType::f32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;

  std::int64_t numel() const { return rows * cols; }
  std::size_t bytes() const { return static_cast<std::size_t>(rows) * row_bytes(dtype, cols); }
  // Rows [first, first + count) of this tensor.
  Tensor row_slice(std::int64_t first, std::int64_t count) const {
    auto* base = static_cast<std::byte*>(data) + first * static_cast<std::int64_t>(row_bytes(dtype, cols));
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
