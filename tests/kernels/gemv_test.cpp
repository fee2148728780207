// The GEMV paths against the scalar reference on random shapes, for every
// weight type and every path this CPU runs; the scalar path against a
// double-precision loop; the matmul dispatch on both sides of its switch.

#include "kernels/cpu/gemv.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_ops.hpp"
#include "test_util.hpp"

using namespace pagedserve::kernels;
using pagedserve::testing::random_vector;

namespace {

// A weight matrix of `dtype` built from f32 values, kept with them.
struct Weights {
  std::vector<std::byte> bytes;
  std::vector<float> as_f32;  // what the stored weights are worth, after rounding
  cpu::WeightView view;

  Weights(DType dtype, std::int64_t rows, std::int64_t cols, unsigned seed) {
    const auto values = random_vector(rows * cols, seed);
    bytes.resize(rows * row_bytes(dtype, cols));
    for (std::int64_t r = 0; r < rows; ++r)
      convert_row_from_f32(values.data() + r * cols, dtype, cols, bytes.data() + r * row_bytes(dtype, cols));
    as_f32.resize(values.size());
    convert_rows_to_f32(bytes.data(), dtype, rows, cols, as_f32.data());
    view = {bytes.data(), dtype, rows, cols};
  }
};

std::vector<cpu::Isa> supported_paths() {
  std::vector<cpu::Isa> out;
  for (auto isa : {cpu::Isa::scalar, cpu::Isa::avx2, cpu::Isa::avx512})
    if (cpu::isa_supported(isa)) out.push_back(isa);
  return out;
}

// The classic bound on a float sum's error: cols * 2^-24 * sum |x * w|. Two
// sums of the same products in other orders differ by at most twice it.
double tolerance(const float* x, const std::vector<float>& w, std::int64_t r, std::int64_t cols) {
  double mag = 0;
  for (std::int64_t i = 0; i < cols; ++i) mag += std::fabs(static_cast<double>(x[i]) * w[r * cols + i]);
  return static_cast<double>(cols) * 0x1p-24 * mag;
}

}  // namespace

TEST_CASE("the scalar GEMV sums x * W^T for every weight type", "[gemv]") {
  for (DType dtype : {DType::f32, DType::bf16, DType::q8_0}) {
    const std::int64_t rows = 9, cols = 45;
    Weights w(dtype, rows, cols, 1);
    for (int n = 1; n <= cpu::kGemvMaxRows; ++n) {
      const auto x = random_vector(n * cols, 2 + n);
      std::vector<float> out(n * rows);
      cpu::gemv_rows_scalar(x.data(), n, w.view, 0, rows, out.data());
      for (int b = 0; b < n; ++b)
        for (std::int64_t r = 0; r < rows; ++r) {
          double want = 0;
          for (std::int64_t i = 0; i < cols; ++i) want += static_cast<double>(x[b * cols + i]) * w.as_f32[r * cols + i];
          INFO(dtype_name(dtype) << " n " << n);
          CHECK(out[b * rows + r] == Approx(want).margin(tolerance(x.data() + b * cols, w.as_f32, r, cols)));
        }
    }
  }
}

TEST_CASE("every SIMD GEMV path matches the scalar one on random shapes", "[gemv]") {
  std::mt19937 rng(7);
  for (cpu::Isa isa : supported_paths()) {
    for (DType dtype : {DType::f32, DType::bf16, DType::q8_0}) {
      for (int trial = 0; trial < 12; ++trial) {
        const std::int64_t rows = 1 + rng() % 70, cols = 1 + rng() % 300;
        const int n = 1 + static_cast<int>(rng() % cpu::kGemvMaxRows);
        Weights w(dtype, rows, cols, 100 + trial);
        const auto x = random_vector(n * cols, 200 + trial);
        std::vector<float> want(n * rows), got(n * rows, NAN);
        cpu::gemv_rows_scalar(x.data(), n, w.view, 0, rows, want.data());
        const std::int64_t first = rows / 3;  // a row range, as one thread gets
        cpu::gemv_rows(isa, x.data(), n, w.view, first, rows, got.data());
        INFO(cpu::isa_name(isa) << " " << dtype_name(dtype) << " rows " << rows << " cols " << cols << " n " << n);
        for (int b = 0; b < n; ++b)
          for (std::int64_t r = first; r < rows; ++r)
            REQUIRE(got[b * rows + r] == Approx(want[b * rows + r]).margin(2 * tolerance(x.data() + b * cols, w.as_f32, r, cols)));
      }
    }
  }
}

TEST_CASE("a row's GEMV result has the same bits whatever the number of rows in the pass", "[gemv]") {
  // A decode step's sequences share one pass over the weights: a sequence's
  // logits must not change with the size of its batch.
  const std::int64_t rows = 37, cols = 173;  // 173: a tail past every vector width
  for (cpu::Isa isa : supported_paths()) {
    for (DType dtype : {DType::f32, DType::bf16, DType::q8_0}) {
      Weights w(dtype, rows, cols, 31);
      const auto x = random_vector(cpu::kGemvMaxRows * cols, 32);
      std::vector<float> alone(cpu::kGemvMaxRows * rows);
      for (int b = 0; b < cpu::kGemvMaxRows; ++b)
        cpu::gemv_rows(isa, x.data() + b * cols, 1, w.view, 0, rows, alone.data() + b * rows);
      for (int n = 2; n <= cpu::kGemvMaxRows; ++n) {
        std::vector<float> together(n * rows);
        cpu::gemv_rows(isa, x.data(), n, w.view, 0, rows, together.data());
        INFO(cpu::isa_name(isa) << " " << dtype_name(dtype) << " n " << n);
        for (std::int64_t i = 0; i < n * rows; ++i) REQUIRE(together[i] == alone[i]);
      }
    }
  }
}

TEST_CASE("the threaded GEMV fills every output row on each path", "[gemv]") {
  const std::int64_t rows = 1000, cols = 288;  // over a MB: threads split the rows
  Weights w(DType::f32, rows, cols, 11);
  const auto x = random_vector(2 * cols, 12);
  std::vector<float> want(2 * rows);
  cpu::gemv_rows_scalar(x.data(), 2, w.view, 0, rows, want.data());
  const cpu::Isa before = cpu::active_isa();
  for (cpu::Isa isa : supported_paths()) {
    cpu::set_active_isa(isa);
    CHECK(cpu::active_isa() == isa);
    std::vector<float> got(2 * rows, NAN);
    cpu::gemv(x.data(), 2, w.view, got.data());
    for (std::int64_t i = 0; i < 2 * rows; ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-4));
  }
  cpu::set_active_isa(before);
}

TEST_CASE("the best path is one this CPU runs, and paths it lacks are refused", "[gemv]") {
  CHECK(cpu::isa_supported(cpu::best_isa()));
  CHECK(cpu::isa_supported(cpu::Isa::scalar));
  for (auto isa : {cpu::Isa::avx2, cpu::Isa::avx512})
    if (!cpu::isa_supported(isa)) CHECK_THROWS_AS(cpu::set_active_isa(isa), std::invalid_argument);
}

TEST_CASE("matmul gives the same product below and above the GEMV switch", "[gemv][cpu_ops]") {
  const std::int64_t out_features = 40, in = 70;
  for (DType dtype : {DType::f32, DType::bf16, DType::q8_0}) {
    Weights w(dtype, out_features, in, 21);
    for (std::int64_t n : {1, 3, 4, 5, 9}) {
      const auto x = random_vector(n * in, 22);
      std::vector<float> tile, by_gemv(n * out_features), by_blas(n * out_features);
      cpu::set_gemv_up_to_rows(64);
      cpu::matmul(x.data(), n, w.view, by_gemv.data(), tile);
      cpu::set_gemv_up_to_rows(0);
      cpu::matmul(x.data(), n, w.view, by_blas.data(), tile);
      cpu::set_gemv_up_to_rows(cpu::kDefaultGemvUpToRows);
      INFO(dtype_name(dtype) << " n " << n);
      for (std::int64_t i = 0; i < n * out_features; ++i) REQUIRE(by_gemv[i] == Approx(by_blas[i]).margin(1e-4));
    }
  }
}

TEST_CASE("q8_0 rows keep each value within half a step of its group's scale", "[gemv][dtype]") {
  const std::int64_t cols = 77;  // two whole groups and a short one
  auto values = random_vector(cols, 31);
  values[40] = 0;
  std::vector<std::byte> row(row_bytes(DType::q8_0, cols));
  CHECK(row.size() == 3 * 4 + 80);
  quantize_q8_0_row(values.data(), cols, row.data());
  std::vector<float> back(cols);
  dequantize_q8_0_row(row.data(), cols, back.data());
  for (std::int64_t g = 0; g < 3; ++g) {
    float max_abs = 0;
    for (std::int64_t i = g * 32; i < std::min<std::int64_t>(cols, g * 32 + 32); ++i) max_abs = std::max(max_abs, std::fabs(values[i]));
    for (std::int64_t i = g * 32; i < std::min<std::int64_t>(cols, g * 32 + 32); ++i)
      CHECK(std::fabs(back[i] - values[i]) <= max_abs / 127.0f * 0.5f * 1.0001f);
  }
  CHECK(back[40] == 0.0f);
}
