// Every CUDA op against the CPU backend on the same inputs.
// Tolerances: fp32 1e-4 relative (different summation order, fast exp);
// fp16 / bf16 2e-2 / 5e-2 relative, from rounding of inputs and outputs.

#include "kernels/cuda/cuda_backend.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "kernels/cpu/cpu_backend.hpp"

using namespace pagedserve::kernels;
using pagedserve::testing::random_vector;

namespace {

double tolerance(DType t) { return t == DType::f32 ? 1e-4 : t == DType::f16 ? 2e-2 : 5e-2; }

struct Pair {
  std::unique_ptr<Backend> cpu = make_cpu_backend();
  std::unique_ptr<Backend> gpu;
  explicit Pair(DType dtype, AttentionKernel kernel = AttentionKernel::fast, int partition = 512) {
    CudaBackendOptions o;
    o.activation_dtype = dtype;
    o.attention_kernel = kernel;
    o.attention_partition = partition;
    gpu = make_cuda_backend(o);
  }
  OwnedTensor up(Backend& b, const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
    return b.upload_weight({v.data(), DType::f32, rows, cols, {}});
  }
  std::vector<float> down(Backend& b, const Tensor& t) {
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    b.to_host_f32(t, out);
    return out;
  }
};

void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).epsilon(tol).margin(tol));
}

// A batch of sequences with random contexts, new-token counts and scattered
// block tables, and a pool filled with random K/V on both backends.
struct AttentionCase {
  KvCacheSpec spec;
  BatchMetadata meta;
  std::vector<float> q, pool;
  int heads = 0;
};

AttentionCase make_case(std::mt19937& rng, int heads, int kv_heads, int hs, int bs, std::vector<std::pair<int, int>> seqs) {
  AttentionCase c;
  c.heads = heads;
  int blocks = 0, max_blocks = 0;
  for (auto [ctx, n] : seqs) {
    blocks += (ctx + bs - 1) / bs;
    max_blocks = std::max(max_blocks, (ctx + bs - 1) / bs);
  }
  c.spec = KvCacheSpec{blocks + 3, 2, kv_heads, bs, hs, DType::f32};
  c.pool = random_vector(c.spec.elems_per_block() * c.spec.num_blocks, rng());
  std::vector<std::int32_t> ids(c.spec.num_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  c.meta.max_blocks_per_seq = max_blocks;
  c.meta.query_start.push_back(0);
  std::size_t next = 0;
  for (auto [ctx, n] : seqs) {
    std::vector<std::int32_t> table(max_blocks, 0);
    for (int b = 0; b < (ctx + bs - 1) / bs; ++b) table[b] = ids[next++];
    for (int i = 0; i < n; ++i) {
      c.meta.token_ids.push_back(0);
      c.meta.positions.push_back(ctx - n + i);
      c.meta.slot_mapping.push_back(-1);
    }
    c.meta.query_start.push_back(c.meta.num_tokens());
    c.meta.context_lens.push_back(ctx);
    c.meta.block_tables.insert(c.meta.block_tables.end(), table.begin(), table.end());
  }
  c.q = random_vector(static_cast<std::size_t>(c.meta.num_tokens()) * heads * hs, rng());
  return c;
}

std::vector<float> run_attention(Backend& b, Pair& p, const AttentionCase& c, DType dtype) {
  KvCacheSpec spec = c.spec;
  spec.dtype = dtype;
  // The pool's contents arrive through upload_weight, converted to the
  // backend's type like any tensor.
  auto pool = p.up(b, c.pool, spec.num_blocks, static_cast<std::int64_t>(spec.elems_per_block()));
  const KvCache cache{spec, pool.buffer, b.name() == "cpu"};
  auto q = p.up(b, c.q, c.meta.num_tokens(), static_cast<std::int64_t>(c.heads) * spec.head_size);
  auto out = b.allocate_tensor(b.activation_dtype(), q.view.rows, q.view.cols);
  auto step = b.prepare(c.meta);
  const AttentionParams params{c.heads, spec.num_kv_heads, spec.head_size, 1.0f / std::sqrt(float(spec.head_size))};
  b.paged_attention(q.view, cache, 1, *step, params, out.view);
  return p.down(b, out.view);
}

}  // namespace

TEST_CASE("CUDA paged attention matches the CPU reference", "[gpu][attention]") {
  std::mt19937 rng(1);
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    // Both kernels, each with the default partition and a small one that
    // splits every context past 64 keys.
    std::vector<std::pair<std::string, Pair>> variants;
    for (auto kernel : {AttentionKernel::fast, AttentionKernel::simple})
      for (int partition : {512, 64})
        variants.emplace_back(std::string(kernel == AttentionKernel::fast ? "fast" : "simple") + " partition " +
                                  std::to_string(partition),
                              Pair(dtype, kernel, partition));
    for (int hs : {64, 80, 96, 128, 256, 8})
      for (int group : {1, 2, 4, 8})
        for (int bs : {8, 16, 32}) {
          // Decodes, prefill chunks with and without a cached prefix (the
          // tiled kernel: several query tiles, a partial last one, several
          // key tiles), and a long context that takes the split-K path.
          auto c = make_case(rng, 2 * group, 2, hs, bs, {{1, 1}, {37, 1}, {70, 20}, {300, 300}, {200, 130}, {1300, 1}});
          auto want = run_attention(*variants[0].second.cpu, variants[0].second, c, DType::f32);
          for (auto& [name, p] : variants) {
            INFO("dtype " << dtype_name(dtype) << " hs " << hs << " group " << group << " bs " << bs << " " << name);
            check_close(run_attention(*p.gpu, p, c, dtype), want, tolerance(dtype));
          }
        }
  }
}

TEST_CASE("CUDA fused ops and stacked weights match the CPU reference", "[gpu][ops]") {
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    Pair p(dtype);
    const double tol = tolerance(dtype);
    // 3 tokens; 4 q heads and 2 kv heads of 16: q 64, k 32, v 32 wide.
    auto x = random_vector(3 * 64, 11), r = random_vector(3 * 64, 12), w = random_vector(64, 13);
    auto qkv = random_vector(3 * 128, 14), gu = random_vector(3 * 2 * 40, 15);
    auto wa = random_vector(5 * 64, 16), wb = random_vector(7 * 64, 17);
    auto run = [&](Backend& b) {
      auto xt = p.up(b, x, 3, 64), rt = p.up(b, r, 3, 64), wt = p.up(b, w, 1, 64);
      auto normed = b.allocate_tensor(b.activation_dtype(), 3, 64);
      b.add_rms_norm(xt.view, rt.view, wt.view, 1e-5f, normed.view);
      BatchMetadata meta;
      meta.token_ids = {0, 0, 0};
      meta.positions = {0, 5, 900};
      meta.slot_mapping = {-1, -1, -1};
      meta.query_start = {0, 3};
      meta.context_lens = {901};
      auto step = b.prepare(meta);
      auto qkvt = p.up(b, qkv, 3, 128);
      auto q = b.allocate_tensor(b.activation_dtype(), 3, 64), k = b.allocate_tensor(b.activation_dtype(), 3, 32),
           v = b.allocate_tensor(b.activation_dtype(), 3, 32);
      b.split_qkv_rotary(qkvt.view, q.view, k.view, v.view, *step, {4, 2, 16, 10000.0f, RopeLayout::rotate_halves});
      auto gut = p.up(b, gu, 3, 80);
      auto h = b.allocate_tensor(b.activation_dtype(), 3, 40);
      b.silu_mul_halves(gut.view, h.view);
      const HostTensorView parts[] = {{wa.data(), DType::f32, 5, 64, {}}, {wb.data(), DType::f32, 7, 64, {}}};
      auto stacked = b.upload_stacked(parts);
      std::vector<float> all;
      for (const Tensor& t : {xt.view, normed.view, q.view, k.view, v.view, h.view, stacked.view}) {
        auto d = p.down(b, t);
        all.insert(all.end(), d.begin(), d.end());
      }
      return all;
    };
    INFO("dtype " << dtype_name(dtype));
    check_close(run(*p.gpu), run(*p.cpu), 4 * tol);
  }
}

TEST_CASE("CUDA matmul of 1 to 9 rows (the GEMV kernel, then cuBLAS) matches the CPU reference", "[gpu][ops]") {
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    Pair p(dtype);
    for (int k : {64, 4096, 172})  // 172 halves are not whole 16-byte vectors: cuBLAS
      for (int m = 1; m <= 9; ++m) {
        auto x = random_vector(static_cast<std::size_t>(m) * k, 20 + m), w = random_vector(300 * static_cast<std::size_t>(k), 30);
        auto run = [&](Backend& b) {
          auto xt = p.up(b, x, m, k), wt = p.up(b, w, 300, k);
          auto out = b.allocate_tensor(b.activation_dtype(), m, 300);
          b.matmul(xt.view, wt.view, out.view);
          return p.down(b, out.view);
        };
        INFO("dtype " << dtype_name(dtype) << " m " << m << " k " << k);
        // Sums of k products: the tolerance grows with their length.
        check_close(run(*p.gpu), run(*p.cpu), tolerance(dtype) * (k > 1000 ? 4 : 1));
      }
  }
}

TEST_CASE("A failed CUDA allocation leaves the backend usable", "[gpu][ops]") {
  Pair p(DType::f16);
  CHECK_THROWS_WITH(p.gpu->allocate(std::size_t{1} << 50), Catch::Contains("cannot allocate"));
  // The next, unrelated launch must not report the stale out-of-memory.
  auto x = random_vector(4 * 64, 3);
  auto t = p.up(*p.gpu, x, 4, 64);
  auto normed = p.gpu->allocate_tensor(DType::f16, 4, 64);
  p.gpu->rms_norm(t.view, t.view, 1e-5f, normed.view);
  CHECK(p.down(*p.gpu, normed.view).size() == x.size());
}

TEST_CASE("Synthetic weights are the same numbers on the GPU and the CPU", "[gpu][ops]") {
  Pair p(DType::f32);
  HostTensorView v{nullptr, DType::f32, 300, 1000, SyntheticFill{42, 0.5f}};
  auto gpu = p.down(*p.gpu, p.gpu->upload_weight(v).view);
  auto cpu = p.down(*p.cpu, p.cpu->upload_weight(v).view);
  CHECK(gpu == cpu);
}

TEST_CASE("A weight is converted on the GPU from its stored type", "[gpu][ops]") {
  auto x = random_vector(7 * 33, 9);
  std::vector<std::uint16_t> half(x.size()), bf(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    half[i] = float_to_half(x[i]);
    bf[i] = float_to_bf16(x[i]);
  }
  for (DType to : {DType::f32, DType::f16, DType::bf16}) {
    Pair p(to);
    for (auto [data, from] : {std::pair<const void*, DType>{x.data(), DType::f32}, {half.data(), DType::f16}, {bf.data(), DType::bf16}}) {
      INFO("from " << dtype_name(from) << " to " << dtype_name(to));
      std::vector<float> want(x.size());
      convert_to_f32(data, from, want.data(), want.size());
      check_close(p.down(*p.gpu, p.gpu->upload_weight({data, from, 7, 33, {}}).view), want, tolerance(to));
    }
  }
}

TEST_CASE("CUDA element-wise ops and GEMM match the CPU reference", "[gpu][ops]") {
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    Pair p(dtype);
    const double tol = tolerance(dtype);
    auto x = random_vector(5 * 64, 1), w = random_vector(64, 2), m = random_vector(48 * 64, 3);
    auto run = [&](Backend& b) {
      auto xt = p.up(b, x, 5, 64), wt = p.up(b, w, 1, 64), mt = p.up(b, m, 48, 64);
      auto normed = b.allocate_tensor(b.activation_dtype(), 5, 64), prod = b.allocate_tensor(b.activation_dtype(), 5, 48);
      b.rms_norm(xt.view, wt.view, 1e-5f, normed.view);
      b.matmul(normed.view, mt.view, prod.view);
      b.silu_mul(prod.view, prod.view, prod.view);
      b.add(prod.view, prod.view);
      BatchMetadata meta;
      meta.token_ids = {0, 1, 2, 3, 4};
      meta.positions = {0, 3, 7, 100, 2000};
      meta.slot_mapping = {-1, -1, -1, -1, -1};
      meta.query_start = {0, 5};
      meta.context_lens = {2001};
      meta.logits_rows = {4, 0};
      auto step = b.prepare(meta);
      for (auto layout : {RopeLayout::adjacent_pairs, RopeLayout::rotate_halves}) {
        auto q = p.up(b, x, 5, 64), k = p.up(b, x, 5, 64);
        b.rotary(q.view, k.view, *step, {2, 2, 32, 10000.0f, layout});
        b.add(normed.view, q.view);
      }
      auto gathered = b.allocate_tensor(b.activation_dtype(), 2, 48);
      b.gather_logit_rows(prod.view, *step, gathered.view);
      auto table = p.up(b, m, 48, 64), emb = b.allocate_tensor(b.activation_dtype(), 5, 64);
      b.embedding(table.view, *step, emb.view);
      auto a = p.down(b, normed.view), g = p.down(b, gathered.view), e = p.down(b, emb.view);
      a.insert(a.end(), g.begin(), g.end());
      a.insert(a.end(), e.begin(), e.end());
      return a;
    };
    INFO("dtype " << dtype_name(dtype));
    check_close(run(*p.gpu), run(*p.cpu), 4 * tol);
  }
}

TEST_CASE("CUDA K/V writes, block copies and swaps move the right bytes", "[gpu][cache]") {
  Pair p(DType::f32);
  KvCacheSpec spec{8, 2, 2, 16, 64, DType::f32};
  auto k = random_vector(3 * 128, 5), v = random_vector(3 * 128, 6);
  BatchMetadata meta;
  meta.token_ids = {0, 0, 0};
  meta.positions = {0, 1, 2};
  meta.slot_mapping = {7 * 16 + 15, -1, 3 * 16};
  meta.query_start = {0, 3};
  meta.context_lens = {3};
  auto run = [&](Backend& b) {
    KvCache gpu = b.allocate_kv_cache(spec), cpu = b.allocate_swap_space(spec);
    auto kt = p.up(b, k, 3, 128), vt = p.up(b, v, 3, 128);
    auto step = b.prepare(meta);
    b.write_kv(kt.view, vt.view, gpu, 1, *step);
    BlockCopy cow{7, 1}, out{3, 5}, in{5, 6};
    b.copy_blocks(gpu, {&cow, 1});
    b.swap_blocks(gpu, cpu, {&out, 1});
    b.swap_blocks(cpu, gpu, {&in, 1});
    b.synchronize();
    std::vector<float> all(spec.elems_per_block() * spec.num_blocks);
    if (gpu.on_host) std::memcpy(all.data(), gpu.data(), spec.total_bytes());
    else b.to_host_f32(Tensor{gpu.data(), DType::f32, 1, static_cast<std::int64_t>(all.size())}, all);
    return all;
  };
  CHECK(run(*p.gpu) == run(*p.cpu));
}

// Llama 3.1's own rope scaling numbers.
static RopeParams llama3_rope(RopeLayout layout) {
  RopeParams p{4, 2, 64, 500000.0f, layout};
  p.scaling = RopeScaling{8.0f, 1.0f, 4.0f, 8192.0f};
  return p;
}

TEST_CASE("CUDA bias, per-head RMSNorm and llama3 rotary match the CPU reference", "[gpu][ops]") {
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    Pair p(dtype);
    const double tol = tolerance(dtype);
    // 5 tokens; 4 q heads and 2 kv heads of 64: q 256, k 128, v 128 wide.
    auto x = random_vector(5 * 512, 21), bias = random_vector(512, 22), norm = random_vector(64, 23);
    auto run = [&](Backend& b) {
      BatchMetadata meta;
      meta.token_ids = {0, 0, 0, 0, 0};
      meta.positions = {0, 7, 300, 1200, 2000};
      meta.slot_mapping = {-1, -1, -1, -1, -1};
      meta.query_start = {0, 5};
      meta.context_lens = {2001};
      auto step = b.prepare(meta);
      auto qkv = p.up(b, x, 5, 512), bt = p.up(b, bias, 1, 512), nt = p.up(b, norm, 1, 64);
      b.add_bias(qkv.view, bt.view);
      std::vector<float> all = p.down(b, qkv.view);
      for (auto layout : {RopeLayout::rotate_halves, RopeLayout::adjacent_pairs}) {
        auto q = b.allocate_tensor(b.activation_dtype(), 5, 256), k = b.allocate_tensor(b.activation_dtype(), 5, 128),
             v = b.allocate_tensor(b.activation_dtype(), 5, 128);
        b.split_qkv_rotary(qkv.view, q.view, k.view, v.view, *step, llama3_rope(layout));
        auto q2 = p.up(b, x, 5, 256), k2 = p.up(b, x, 5, 128);
        b.rotary(q2.view, k2.view, *step, llama3_rope(layout));
        b.head_rms_norm(q2.view, nt.view, 1e-6f);
        for (const Tensor& t : {q.view, k.view, v.view, q2.view, k2.view}) {
          auto d = p.down(b, t);
          all.insert(all.end(), d.begin(), d.end());
        }
      }
      return all;
    };
    INFO("dtype " << dtype_name(dtype));
    check_close(run(*p.gpu), run(*p.cpu), 4 * tol);
  }
}
