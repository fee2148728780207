#include "kernels/cpu/cpu_backend.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.hpp"

namespace pagedserve::kernels {

namespace {

float* f32(const Tensor& t) {
  if (t.dtype != DType::f32) throw std::invalid_argument("the CPU backend computes in f32 only");
  return static_cast<float*>(t.data);
}

std::byte* row_of(const Tensor& t, std::int64_t r) { return static_cast<std::byte*>(t.data) + r * row_bytes(t.dtype, t.cols); }

// Below this, a buffer comes from the heap; above, from its own mapping.
constexpr std::size_t kMapFrom = 64 * 1024;

// Anonymous mappings are zero pages the kernel supplies on first touch: a
// KV pool or swap area costs resident memory only as far as it is used.
Buffer map_zeroed(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return Buffer{std::shared_ptr<void>(p, [bytes](void* q) { ::munmap(q, bytes); }), bytes};
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(DType weights) : weights_(weights) {
    if (weights != DType::f32 && weights != DType::bf16 && weights != DType::q8_0)
      throw std::invalid_argument("the CPU backend keeps weights in f32, bf16 or q8_0, not " + std::string(dtype_name(weights)));
  }

  std::string name() const override { return "cpu"; }
  DType activation_dtype() const override { return DType::f32; }

  DeviceMemoryInfo memory_info() const override {
    const long pages = ::sysconf(_SC_PHYS_PAGES), avail = ::sysconf(_SC_AVPHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
    return {static_cast<std::size_t>(avail) * size, static_cast<std::size_t>(pages) * size};
  }

  Buffer allocate(std::size_t bytes) override {
    if (bytes >= kMapFrom) return map_zeroed(bytes);
    // 64-byte alignment for vector loads; zeroed so a fresh buffer is defined.
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, rounded == 0 ? 64 : rounded);
    return Buffer{std::shared_ptr<void>(p, std::free), bytes};
  }

  DType weight_dtype() const override { return weights_; }
  // Norms and biases (one row or one column) stay f32: they are tiny, and
  // the element-wise kernels read them as f32.
  DType weight_dtype_for(std::int64_t rows, std::int64_t cols) const override {
    return rows > 1 && cols > 1 ? weights_ : DType::f32;
  }

  void upload_weight_into(const HostTensorView& host, Tensor dst) override {
    if (dst.rows != host.rows || dst.cols != host.cols) throw std::invalid_argument("upload_weight_into: shape mismatch");
    if (host.synthetic) return fill_synthetic(dst, *host.synthetic);
    if (dst.dtype == DType::f32)
      return convert_to_f32(host.data, host.dtype, f32(dst), static_cast<std::size_t>(host.rows * host.cols));
    // Row by row through f32: converted at load, whatever the checkpoint's type.
    const auto* src = static_cast<const std::byte*>(host.data);
    const std::size_t src_row = row_bytes(host.dtype, host.cols);
#pragma omp parallel
    {
      std::vector<float> row(static_cast<std::size_t>(host.cols));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < host.rows; ++r) {
        convert_to_f32(src + r * src_row, host.dtype, row.data(), row.size());
        convert_row_from_f32(row.data(), dst.dtype, dst.cols, row_of(dst, r));
      }
    }
  }

  void fill_synthetic(Tensor t, const SyntheticFill& fill) override {
    if (t.dtype == DType::f32) {
      float* out = f32(t);
      const auto n = t.numel();
#pragma omp parallel for if (n > (1 << 16))
      for (std::int64_t i = 0; i < n; ++i) out[i] = synthetic_value(fill, static_cast<std::uint64_t>(i));
      return;
    }
#pragma omp parallel
    {
      std::vector<float> row(static_cast<std::size_t>(t.cols));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < t.rows; ++r) {
        for (std::int64_t i = 0; i < t.cols; ++i) row[i] = synthetic_value(fill, static_cast<std::uint64_t>(r * t.cols + i));
        convert_row_from_f32(row.data(), t.dtype, t.cols, row_of(t, r));
      }
    }
  }

  void to_host_f32(const Tensor& t, std::span<float> out) override {
    if (out.size() != static_cast<std::size_t>(t.numel())) throw std::invalid_argument("to_host_f32: size mismatch");
    convert_rows_to_f32(t.data, t.dtype, t.rows, t.cols, out.data());
  }

  void from_host_f32(std::span<const float> in, Tensor out) override {
    if (in.size() != static_cast<std::size_t>(out.numel()) || out.dtype != DType::f32)
      throw std::invalid_argument("from_host_f32: size or type mismatch");
    std::copy(in.begin(), in.end(), f32(out));
  }

  KvCache allocate_kv_cache(const KvCacheSpec& spec) override { return make_pool(spec); }
  KvCache allocate_swap_space(const KvCacheSpec& spec) override { return make_pool(spec); }

  std::unique_ptr<StepBatch> prepare(const BatchMetadata& meta) override { return std::make_unique<StepBatch>(meta); }
  void synchronize() override {}

  void embedding(const Tensor& table, const StepBatch& batch, Tensor out) override {
    const auto& ids = batch.host().token_ids;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= table.rows) throw std::out_of_range("token id outside the vocabulary");
      convert_rows_to_f32(row_of(table, ids[i]), table.dtype, 1, table.cols, f32(out) + i * out.cols);
    }
  }

  void embedding_rows(const Tensor& table, std::int32_t first_id, const StepBatch& batch, Tensor out) override {
    const auto& ids = batch.host().token_ids;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      float* row = f32(out) + i * out.cols;
      const std::int64_t local = static_cast<std::int64_t>(ids[i]) - first_id;
      if (local >= 0 && local < table.rows) convert_rows_to_f32(row_of(table, local), table.dtype, 1, table.cols, row);
      else std::fill(row, row + out.cols, 0.0f);
    }
  }

  void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out) override {
    cpu::rms_norm(f32(x), f32(weight), eps, x.rows, x.cols, f32(out));
  }

  void add_rms_norm(Tensor x, const Tensor& residual, const Tensor& weight, float eps, Tensor out) override {
    cpu::add_rms_norm(f32(x), f32(residual), f32(weight), eps, x.rows, x.cols, f32(out));
  }

  void matmul(const Tensor& x, const Tensor& w, Tensor out) override {
    if (w.cols != x.cols || out.rows != x.rows || out.cols != w.rows) throw std::invalid_argument("matmul: shapes do not chain");
    cpu::matmul(f32(x), x.rows, cpu::WeightView{w.data, w.dtype, w.rows, w.cols}, f32(out), tile_);
  }

  void rotary(Tensor q, Tensor k, const StepBatch& batch, const RopeParams& p) override {
    const auto& pos = batch.host().positions;
    const int max_pos = pos.empty() ? 0 : *std::max_element(pos.begin(), pos.end());
    rope_.angles(max_pos, p);  // grows the table before threads read it
#pragma omp parallel for if (q.rows > 8)
    for (std::int64_t t = 0; t < q.rows; ++t) cpu::rotary(f32(q) + t * q.cols, f32(k) + t * k.cols, rope_.angles(pos[t], p), p);
  }

  void silu_mul(const Tensor& gate, const Tensor& up, Tensor out) override {
    cpu::silu_mul(f32(gate), f32(up), gate.numel(), f32(out));
  }

  void add(Tensor x, const Tensor& y) override {
    float* a = f32(x);
    const float* b = f32(y);
    for (std::int64_t i = 0; i < x.numel(); ++i) a[i] += b[i];
  }

  void add_bias(Tensor x, const Tensor& bias) override {
    if (bias.numel() != x.cols) throw std::invalid_argument("add_bias: the bias is not one row of x's width");
    const float* b = f32(bias);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      float* row = f32(x) + r * x.cols;
      for (std::int64_t c = 0; c < x.cols; ++c) row[c] += b[c];
    }
  }

  void split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const StepBatch& batch,
                        const RopeParams& p) override {
    for (std::int64_t t = 0; t < qkv.rows; ++t) {
      const float* row = f32(qkv) + t * qkv.cols;
      std::memcpy(f32(q) + t * q.cols, row, q.cols * sizeof(float));
      std::memcpy(f32(k) + t * k.cols, row + q.cols, k.cols * sizeof(float));
      std::memcpy(f32(v) + t * v.cols, row + q.cols + k.cols, v.cols * sizeof(float));
    }
    rotary(q, k, batch, p);
  }

  void silu_mul_halves(const Tensor& gate_up, Tensor out) override {
    for (std::int64_t r = 0; r < out.rows; ++r) {
      const float* row = f32(gate_up) + r * gate_up.cols;
      cpu::silu_mul(row, row + out.cols, out.cols, f32(out) + r * out.cols);
    }
  }

  void gather_logit_rows(const Tensor& x, const StepBatch& batch, Tensor out) override {
    const auto& rows = batch.host().logits_rows;
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::memcpy(f32(out) + i * out.cols, f32(x) + rows[i] * x.cols, x.cols * sizeof(float));
  }

  void write_kv(const Tensor& k, const Tensor& v, KvCache& cache, int layer, const StepBatch& batch) override {
    const auto& slots = batch.host().slot_mapping;
    auto* pool = static_cast<float*>(cache.data());
    for (std::int64_t t = 0; t < k.rows; ++t)
      if (slots[t] >= 0) cpu::write_kv_token(f32(k) + t * k.cols, f32(v) + t * v.cols, cache.spec, pool, layer, slots[t]);
  }

  void paged_attention(const Tensor& q, const KvCache& cache, int layer, const StepBatch& batch,
                       const AttentionParams& p, Tensor out) override {
    cpu::paged_attention(f32(q), cache.spec, static_cast<const float*>(cache.data()), layer, batch.host(), p, f32(out));
  }

  void copy_blocks(KvCache& cache, std::span<const BlockCopy> copies) override { copy_between(cache, cache, copies); }

  void swap_blocks(const KvCache& src, KvCache& dst, std::span<const BlockCopy> copies) override {
    copy_between(src, dst, copies);
  }

 private:
  DType weights_;
  std::vector<float> tile_;  // bf16/q8_0 weights as f32 for sgemm (cpu::matmul)
  cpu::RopeTable rope_;

  KvCache make_pool(const KvCacheSpec& spec) {
    if (spec.dtype != DType::f32) throw std::invalid_argument("the CPU backend keeps its KV cache in f32");
    return KvCache{spec, allocate(spec.total_bytes()), true};
  }

  static void copy_between(const KvCache& src, KvCache& dst, std::span<const BlockCopy> copies) {
    const std::size_t bytes = src.spec.bytes_per_block();
    for (const auto& c : copies) {
      if (c.src < 0 || c.src >= src.spec.num_blocks || c.dst < 0 || c.dst >= dst.spec.num_blocks)
        throw std::out_of_range("block copy outside the pool");
      std::memcpy(static_cast<std::byte*>(dst.data()) + c.dst * bytes,
                  static_cast<const std::byte*>(src.data()) + c.src * bytes, bytes);
    }
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(DType weights) { return std::make_unique<CpuBackend>(weights); }

}  // namespace pagedserve::kernels
