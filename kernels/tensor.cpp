#include "kernels/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace pagedserve::kernels {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::q8_0: return "q8_0";
  }
  return "?";
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t mant = x & 0x7fffffu;
  const int exp = static_cast<int>((x >> 23) & 0xff);
  if (exp == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));  // inf / nan
  int e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {  // subnormal half (or zero)
    if (e < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t half = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = sign | (static_cast<std::uint32_t>(e) << 10) | (mant >> 13);
  const std::uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into the exponent: correct
  return static_cast<std::uint16_t>(half);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // normalize a subnormal
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

std::uint16_t float_to_bf16(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40);  // quiet nan
  x += 0x7fffu + ((x >> 16) & 1);  // round to nearest even
  return static_cast<std::uint16_t>(x >> 16);
}

float bf16_to_float(std::uint16_t b) {
  std::uint32_t x = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void convert_to_f32(const void* src, DType from, float* dst, std::size_t n) {
  if (from == DType::q8_0) throw std::invalid_argument("convert_to_f32: q8_0 is converted by rows");
  if (from == DType::f32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  // Mapped files give no alignment guarantee (a safetensors header may have
  // any length), so each element is copied out rather than dereferenced.
  const auto* in = static_cast<const std::byte*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    dst[i] = from == DType::f16 ? half_to_float(h) : bf16_to_float(h);
  }
}

void quantize_q8_0_row(const float* src, std::int64_t cols, void* dst) {
  auto* scales = static_cast<float*>(dst);
  auto* q = reinterpret_cast<std::int8_t*>(scales + q8_groups(cols));
  for (std::int64_t g = 0; g < q8_groups(cols); ++g) {
    const std::int64_t begin = g * kQ8GroupSize, end = std::min(cols, begin + kQ8GroupSize);
    float max_abs = 0.0f;
    for (std::int64_t i = begin; i < end; ++i) max_abs = std::max(max_abs, std::fabs(src[i]));
    const float scale = max_abs / 127.0f;
    const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
    scales[g] = scale;
    for (std::int64_t i = begin; i < end; ++i) q[i] = static_cast<std::int8_t>(std::nearbyint(src[i] * inverse));
  }
}

void dequantize_q8_0_row(const void* src, std::int64_t cols, float* dst) {
  const auto* scales = static_cast<const float*>(src);
  const auto* q = reinterpret_cast<const std::int8_t*>(scales + q8_groups(cols));
  for (std::int64_t i = 0; i < cols; ++i) dst[i] = scales[i / kQ8GroupSize] * static_cast<float>(q[i]);
}

void convert_row_from_f32(const float* src, DType to, std::int64_t cols, void* dst) {
  if (to == DType::f32) return static_cast<void>(std::memcpy(dst, src, static_cast<std::size_t>(cols) * 4));
  if (to == DType::q8_0) return quantize_q8_0_row(src, cols, dst);
  auto* out = static_cast<std::uint16_t*>(dst);
  for (std::int64_t i = 0; i < cols; ++i) out[i] = to == DType::f16 ? float_to_half(src[i]) : float_to_bf16(src[i]);
}

void convert_rows_to_f32(const void* src, DType from, std::int64_t rows, std::int64_t cols, float* dst) {
  if (from != DType::q8_0) return convert_to_f32(src, from, dst, static_cast<std::size_t>(rows * cols));
  const auto* in = static_cast<const std::byte*>(src);
  for (std::int64_t r = 0; r < rows; ++r) dequantize_q8_0_row(in + r * row_bytes(from, cols), cols, dst + r * cols);
}

}  // namespace pagedserve::kernels
