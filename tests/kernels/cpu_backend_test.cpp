// Every CPU op against a naive loop, and the dtype conversions.

#include "kernels/cpu/cpu_backend.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/cpu/cpu_ops.hpp"

using namespace pagedserve::kernels;
using pagedserve::testing::random_vector;

namespace {

Tensor view(std::vector<float>& v, std::int64_t rows, std::int64_t cols) { return {v.data(), DType::f32, rows, cols}; }

}  // namespace

TEST_CASE("matmul computes x * W^T", "[cpu_ops]") {
  const int n = 3, in = 17, out = 5;
  auto x = random_vector(n * in, 1), w = random_vector(out * in, 2);
  std::vector<float> y(n * out);
  cpu::matmul(x.data(), w.data(), n, in, out, y.data());
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < out; ++o) {
      double acc = 0;
      for (int j = 0; j < in; ++j) acc += x[i * in + j] * w[o * in + j];
      CHECK(y[i * out + o] == Approx(acc).epsilon(1e-5));
    }
}

TEST_CASE("rms_norm scales each row by its root mean square", "[cpu_ops]") {
  auto x = random_vector(2 * 8, 3), w = random_vector(8, 4);
  std::vector<float> y(16);
  cpu::rms_norm(x.data(), w.data(), 1e-5f, 2, 8, y.data());
  for (int r = 0; r < 2; ++r) {
    double ss = 0;
    for (int j = 0; j < 8; ++j) ss += x[r * 8 + j] * x[r * 8 + j];
    const double inv = 1.0 / std::sqrt(ss / 8 + 1e-5);
    for (int j = 0; j < 8; ++j) CHECK(y[r * 8 + j] == Approx(w[j] * x[r * 8 + j] * inv).epsilon(1e-5));
  }
}

TEST_CASE("add_rms_norm gives add then rms_norm bit for bit", "[cpu_ops]") {
  for (std::int64_t rows : {1, 7}) {
    const std::int64_t dim = 37;
    auto x = random_vector(rows * dim, 51), res = random_vector(rows * dim, 52), w = random_vector(dim, 53);
    auto x2 = x;
    std::vector<float> want(rows * dim), got(rows * dim);
    for (std::int64_t i = 0; i < rows * dim; ++i) x2[i] += res[i];
    cpu::rms_norm(x2.data(), w.data(), 1e-5f, rows, dim, want.data());
    cpu::add_rms_norm(x.data(), res.data(), w.data(), 1e-5f, rows, dim, got.data());
    CHECK(x == x2);
    CHECK(got == want);
  }
}

TEST_CASE("rotary embedding rotates the right pairs in both layouts", "[cpu_ops]") {
  const int hs = 8, pos = 5;
  for (auto layout : {RopeLayout::adjacent_pairs, RopeLayout::rotate_halves}) {
    auto q = random_vector(hs, 5), k = random_vector(hs, 6);
    auto q0 = q;
    RopeParams p{1, 1, hs, 10000.0f, layout};
    cpu::rotary(q.data(), k.data(), pos, p);
    for (int i = 0; i < hs / 2; ++i) {
      const double angle = pos * std::pow(10000.0, -2.0 * i / hs);
      const int a = layout == RopeLayout::adjacent_pairs ? 2 * i : i;
      const int b = layout == RopeLayout::adjacent_pairs ? 2 * i + 1 : i + hs / 2;
      CHECK(q[a] == Approx(q0[a] * std::cos(angle) - q0[b] * std::sin(angle)).margin(1e-5));
      CHECK(q[b] == Approx(q0[a] * std::sin(angle) + q0[b] * std::cos(angle)).margin(1e-5));
    }
  }
}

TEST_CASE("the rope table gives rope_angles' very floats, and follows new parameters", "[cpu_ops]") {
  cpu::RopeTable table;
  RopeParams p{2, 1, 8, 10000.0f, RopeLayout::adjacent_pairs};
  std::vector<float> want(8);
  for (int pos : {0, 5, 3, 40, 17}) {
    cpu::rope_angles(pos, p, want.data());
    CHECK(std::memcmp(table.angles(pos, p), want.data(), 8 * sizeof(float)) == 0);
  }
  p.theta = 500000.0f;
  cpu::rope_angles(17, p, want.data());
  CHECK(std::memcmp(table.angles(17, p), want.data(), 8 * sizeof(float)) == 0);
  // Rotating with the table's angles is rotating at the position.
  auto q = random_vector(16, 41), k = random_vector(8, 42);
  auto q2 = q, k2 = k;
  cpu::rotary(q.data(), k.data(), 17, p);
  cpu::rotary(q2.data(), k2.data(), table.angles(17, p), p);
  CHECK(q == q2);
  CHECK(k == k2);
}

TEST_CASE("silu_mul is silu(gate) * up", "[cpu_ops]") {
  auto g = random_vector(10, 7), u = random_vector(10, 8);
  std::vector<float> y(10);
  cpu::silu_mul(g.data(), u.data(), 10, y.data());
  for (int i = 0; i < 10; ++i) CHECK(y[i] == Approx(g[i] / (1 + std::exp(-g[i])) * u[i]).epsilon(1e-6));
}

TEST_CASE("K/V land in their slots, and block copy and swap move whole blocks", "[cpu_backend]") {
  auto backend = make_cpu_backend();
  KvCacheSpec spec{6, 2, 2, 4, 8, DType::f32};
  KvCache gpu = backend->allocate_kv_cache(spec), cpu = backend->allocate_swap_space(spec);
  auto k = random_vector(3 * 16, 9), v = random_vector(3 * 16, 10);
  BatchMetadata meta;
  meta.token_ids = {0, 0, 0};
  meta.positions = {0, 1, 2};
  meta.slot_mapping = {5 * 4 + 3, -1, 2 * 4 + 0};  // token 1 is skipped
  auto batch = backend->prepare(meta);
  backend->write_kv(view(k, 3, 16), view(v, 3, 16), gpu, 1, *batch);
  auto* pool = static_cast<float*>(gpu.data());
  auto at = [&](const KvCache& c, int block, int kv, int head, int off, int d) {
    return static_cast<const float*>(c.data())[c.spec.offset(block, 1, kv) + (head * 4 + off) * 8 + d];
  };
  for (int h = 0; h < 2; ++h)
    for (int d = 0; d < 8; ++d) {
      CHECK(at(gpu, 5, 0, h, 3, d) == k[0 * 16 + h * 8 + d]);
      CHECK(at(gpu, 5, 1, h, 3, d) == v[0 * 16 + h * 8 + d]);
      CHECK(at(gpu, 2, 0, h, 0, d) == k[2 * 16 + h * 8 + d]);
    }
  (void)pool;
  BlockCopy cow{5, 1};
  backend->copy_blocks(gpu, {&cow, 1});
  CHECK(std::memcmp(static_cast<float*>(gpu.data()) + spec.offset(1, 0, 0),
                    static_cast<float*>(gpu.data()) + spec.offset(5, 0, 0), spec.bytes_per_block()) == 0);
  BlockCopy out{5, 0}, in{0, 3};
  backend->swap_blocks(gpu, cpu, {&out, 1});
  backend->swap_blocks(cpu, gpu, {&in, 1});
  CHECK(std::memcmp(static_cast<float*>(gpu.data()) + spec.offset(3, 0, 0),
                    static_cast<float*>(gpu.data()) + spec.offset(5, 0, 0), spec.bytes_per_block()) == 0);
  BlockCopy bad{0, 99};
  CHECK_THROWS(backend->copy_blocks(gpu, {&bad, 1}));
}

TEST_CASE("half and bfloat16 conversions round to nearest and keep specials", "[dtype]") {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f})
    CHECK(half_to_float(float_to_half(f)) == f);
  CHECK(float_to_half(1.0f) == 0x3C00);
  CHECK(float_to_half(65520.0f) == 0x7C00);  // rounds up to infinity
  CHECK(std::isinf(half_to_float(float_to_half(std::numeric_limits<float>::infinity()))));
  CHECK(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  CHECK(half_to_float(float_to_half(1.0f + 1.0f / 4096)) == 1.0f);  // ties to even
  CHECK(float_to_bf16(1.0f) == 0x3F80);
  CHECK(bf16_to_float(float_to_bf16(3.140625f)) == 3.140625f);
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-100, 100);
  for (int i = 0; i < 10000; ++i) {
    float f = u(rng);
    CHECK(std::fabs(half_to_float(float_to_half(f)) - f) <= std::fabs(f) * (1.0f / 2048));
    CHECK(std::fabs(bf16_to_float(float_to_bf16(f)) - f) <= std::fabs(f) * (1.0f / 256));
  }
}

TEST_CASE("the backend factory names what is wrong with a device", "[backend]") {
  CHECK(make_backend("cpu")->name() == "cpu");
  CHECK_THROWS_WITH(make_backend("tpu"), Catch::Contains("unknown device"));
  CHECK_THROWS_WITH(make_backend("cuda:x"), Catch::Contains("cuda"));
}

// The ops the supported architectures add: projection biases, per-head
// RMSNorm, llama3 rotary frequencies.

TEST_CASE("add_bias adds one row to every row and refuses a bias of another width", "[cpu_backend]") {
  auto backend = make_cpu_backend();
  auto x = random_vector(3 * 10, 1), bias = random_vector(10, 2);
  const auto before = x;
  backend->add_bias(view(x, 3, 10), view(bias, 1, 10));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 10; ++c) CHECK(x[r * 10 + c] == before[r * 10 + c] + bias[c]);
  CHECK_THROWS_WITH(backend->add_bias(view(x, 3, 10), view(bias, 1, 9)), Catch::Contains("not one row of x's width"));
}

TEST_CASE("head_rms_norm normalises each head with one weight and refuses partial heads", "[cpu_backend]") {
  auto backend = make_cpu_backend();
  const int rows = 2, heads = 3, hs = 8;
  auto x = random_vector(rows * heads * hs, 3), w = random_vector(hs, 4);
  const auto before = x;
  backend->head_rms_norm(view(x, rows, heads * hs), view(w, 1, hs), 1e-6f);
  for (int r = 0; r < rows; ++r)
    for (int h = 0; h < heads; ++h) {
      const float* in = before.data() + (r * heads + h) * hs;
      double ss = 0;
      for (int i = 0; i < hs; ++i) ss += double(in[i]) * in[i];
      const double inv = 1.0 / std::sqrt(ss / hs + 1e-6);
      for (int i = 0; i < hs; ++i) CHECK(x[(r * heads + h) * hs + i] == Approx(w[i] * in[i] * inv).epsilon(1e-5));
    }
  CHECK_THROWS_WITH(backend->head_rms_norm(view(x, rows, heads * hs), view(w, 1, 5), 1e-6f),
                    Catch::Contains("rows are not whole heads"));
}

TEST_CASE("llama3 rope scaling keeps high frequencies, divides low ones and blends the band between", "[cpu_ops]") {
  const RopeScaling s{8.0f, 1.0f, 4.0f, 8192.0f};
  // Wavelengths 2*pi/f: below 8192/4 = 2048 kept, above 8192 divided by 8.
  CHECK(scaled_inv_freq(0.01f, s) == 0.01f);                     // wavelength 628
  CHECK(scaled_inv_freq(0.0001f, s) == Approx(0.0001f / 8));    // wavelength 62832
  const float mid = 0.0015f;                                      // wavelength 4189
  const double smooth = (8192.0 / (2 * M_PI / mid) - 1.0) / 3.0;
  CHECK(scaled_inv_freq(mid, s) == Approx((1 - smooth) * mid / 8 + smooth * mid).epsilon(1e-5));
  CHECK(scaled_inv_freq(mid, RopeScaling{}) == mid);  // inactive
  // The rotary op uses it: a pair at a low frequency turns 8 times slower.
  RopeParams p{1, 1, 64, 500000.0f, RopeLayout::rotate_halves};
  std::vector<float> plain(64, 0.0f), scaled(64, 0.0f), k(64, 0.0f);
  plain[31] = scaled[31] = 1.0f;  // the last pair: the lowest frequency
  cpu::rotary(plain.data(), k.data(), 1000, p);
  p.scaling = s;
  cpu::rotary(scaled.data(), k.data(), 1000, p);
  const double f = 1.0 / std::pow(500000.0, 62.0 / 64.0);
  CHECK(plain[63] == Approx(std::sin(1000 * f)).margin(1e-6));
  CHECK(scaled[63] == Approx(std::sin(1000 * f / 8)).margin(1e-6));
}
