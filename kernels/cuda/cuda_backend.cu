#include "kernels/cuda/cuda_backend.hpp"

#include <cstring>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/device_sampler.hpp"

namespace pagedserve::kernels {

namespace {

using cuda::DeviceBatch;

// Where each index array of a step lies in the packed upload.
struct BatchLayout {
  std::size_t slots, ids, pos, seq, ctx, tables, rows, bytes;
};

// Packs the batch's index arrays into `host` (int64 slots first, for
// alignment), so one copy uploads them all.
BatchLayout pack_batch(const BatchMetadata& meta, std::vector<std::byte>& host) {
  std::vector<std::int32_t> token_seq(meta.token_ids.size());
  for (int s = 0; s < meta.num_seqs(); ++s)
    for (int i = meta.query_start[s]; i < meta.query_start[s + 1]; ++i) token_seq[i] = s;
  host.clear();
  auto put = [&](const void* p, std::size_t bytes) {
    const std::size_t at = host.size();
    host.resize(at + (bytes + 7) / 8 * 8);
    if (bytes) std::memcpy(host.data() + at, p, bytes);
    return at;
  };
  BatchLayout l;
  l.slots = put(meta.slot_mapping.data(), meta.slot_mapping.size() * 8);
  l.ids = put(meta.token_ids.data(), meta.token_ids.size() * 4);
  l.pos = put(meta.positions.data(), meta.positions.size() * 4);
  l.seq = put(token_seq.data(), token_seq.size() * 4);
  l.ctx = put(meta.context_lens.data(), meta.context_lens.size() * 4);
  l.tables = put(meta.block_tables.data(), meta.block_tables.size() * 4);
  l.rows = put(meta.logits_rows.data(), meta.logits_rows.size() * 4);
  l.bytes = host.size();
  return l;
}

// A step's batch: device pointers into the backend's batch arena, valid
// until the next prepare().
class CudaStepBatch final : public StepBatch {
 public:
  CudaStepBatch(const BatchMetadata& meta, const BatchLayout& l, std::byte* base) : StepBatch(meta) {
    device_.slot_mapping = reinterpret_cast<const std::int64_t*>(base + l.slots);
    device_.token_ids = reinterpret_cast<const std::int32_t*>(base + l.ids);
    device_.positions = reinterpret_cast<const std::int32_t*>(base + l.pos);
    device_.token_seq = reinterpret_cast<const std::int32_t*>(base + l.seq);
    device_.context_lens = reinterpret_cast<const std::int32_t*>(base + l.ctx);
    device_.block_tables = reinterpret_cast<const std::int32_t*>(base + l.tables);
    device_.logits_rows = reinterpret_cast<const std::int32_t*>(base + l.rows);
    device_.num_tokens = meta.num_tokens();
    device_.num_seqs = meta.num_seqs();
    device_.max_blocks_per_seq = meta.max_blocks_per_seq;
    device_.num_logits_rows = static_cast<int>(meta.logits_rows.size());
    device_.max_context_len = meta.max_context_len();
  }
  const DeviceBatch& device() const { return device_; }

 private:
  DeviceBatch device_;
};

const DeviceBatch& device_of(const StepBatch& b) { return static_cast<const CudaStepBatch&>(b).device(); }

cudaDataType_t cuda_type(DType t) {
  return t == DType::f32 ? CUDA_R_32F : t == DType::f16 ? CUDA_R_16F : CUDA_R_16BF;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaBackendOptions& o) : options_(o) {
    PS_CUDA_CHECK(cudaSetDevice(o.device));
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&swap_stream_, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaEventCreateWithFlags(&swap_done_, cudaEventDisableTiming));
    PS_CUBLAS_CHECK(cublasCreate(&cublas_));
    PS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  }
  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    cudaStreamSynchronize(swap_stream_);
    cublasDestroy(cublas_);
    cudaEventDestroy(swap_done_);
    cudaStreamDestroy(swap_stream_);
    cudaStreamDestroy(stream_);
  }

  std::string name() const override { return "cuda:" + std::to_string(options_.device); }
  DType activation_dtype() const override { return options_.activation_dtype; }

  DeviceMemoryInfo memory_info() const override {
    std::size_t free_bytes = 0, total = 0;
    PS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    return {free_bytes, total};
  }

  Buffer allocate(std::size_t bytes) override {
    void* p = nullptr;
    PS_CUDA_CHECK(cudaMalloc(&p, std::max<std::size_t>(bytes, 1)));
    return Buffer{std::shared_ptr<void>(p, [](void* q) { cudaFree(q); }), bytes};
  }

  // Converts on the host to the activation type, then one copy.
  OwnedTensor upload_weight(const HostTensorView& host) override {
    const auto n = static_cast<std::size_t>(host.rows * host.cols);
    std::vector<float> f32(n);
    convert_to_f32(host.data, host.dtype, f32.data(), n);
    std::vector<std::uint16_t> half;
    const void* src = f32.data();
    if (options_.activation_dtype != DType::f32) {
      half.resize(n);
      for (std::size_t i = 0; i < n; ++i)
        half[i] = options_.activation_dtype == DType::f16 ? float_to_half(f32[i]) : float_to_bf16(f32[i]);
      src = half.data();
    }
    OwnedTensor t = allocate_tensor(options_.activation_dtype, host.rows, host.cols);
    PS_CUDA_CHECK(cudaMemcpy(t.view.data, src, t.view.bytes(), cudaMemcpyHostToDevice));
    return t;
  }

  void to_host_f32(const Tensor& t, std::span<float> out) override {
    if (out.size() != static_cast<std::size_t>(t.numel())) throw std::invalid_argument("to_host_f32: size mismatch");
    const void* src = t.data;
    Buffer tmp;
    if (t.dtype != DType::f32) {
      tmp = allocate(out.size() * sizeof(float));
      cuda::launch_to_f32(t.data, t.dtype, static_cast<float*>(tmp.get()), t.numel(), stream_);
      src = tmp.get();
    }
    PS_CUDA_CHECK(cudaMemcpyAsync(out.data(), src, out.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    PS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  KvCache allocate_kv_cache(const KvCacheSpec& spec) override {
    check_kv_dtype(spec);
    KvCache c{spec, allocate(spec.total_bytes()), false};
    PS_CUDA_CHECK(cudaMemset(c.data(), 0, spec.total_bytes()));
    return c;
  }

  // Pinned host memory, so swaps run as asynchronous DMA.
  KvCache allocate_swap_space(const KvCacheSpec& spec) override {
    check_kv_dtype(spec);
    void* p = nullptr;
    PS_CUDA_CHECK(cudaHostAlloc(&p, std::max<std::size_t>(spec.total_bytes(), 1), cudaHostAllocDefault));
    return KvCache{spec, Buffer{std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); }), spec.total_bytes()}, true};
  }

  std::unique_ptr<StepBatch> prepare(const BatchMetadata& meta) override {
    // The previous step must be done with the arena and staging buffer
    // (forward() ends by copying logits back, so this rarely waits).
    synchronize();
    const BatchLayout layout = pack_batch(meta, packed_);
    if (layout.bytes > staging_bytes_) {
      void* p = nullptr;
      PS_CUDA_CHECK(cudaHostAlloc(&p, layout.bytes * 2, cudaHostAllocDefault));
      staging_ = std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); });
      arena_ = allocate(layout.bytes * 2);
      staging_bytes_ = layout.bytes * 2;
    }
    std::memcpy(staging_.get(), packed_.data(), layout.bytes);
    PS_CUDA_CHECK(cudaMemcpyAsync(arena_.get(), staging_.get(), layout.bytes, cudaMemcpyHostToDevice, stream_));
    return std::make_unique<CudaStepBatch>(meta, layout, static_cast<std::byte*>(arena_.get()));
  }

  void synchronize() override { PS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  void embedding(const Tensor& table, const StepBatch& b, Tensor out) override {
    cuda::launch_embedding(table, device_of(b), out, stream_);
  }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor out) override {
    cuda::launch_rms_norm(x, w, eps, out, stream_);
  }
  void rotary(Tensor q, Tensor k, const StepBatch& b, const RopeParams& p) override {
    cuda::launch_rotary(q, k, device_of(b), p, stream_);
  }
  void silu_mul(const Tensor& gate, const Tensor& up, Tensor out) override { cuda::launch_silu_mul(gate, up, out, stream_); }
  void add(Tensor x, const Tensor& y) override { cuda::launch_add(x, y, stream_); }
  void gather_logit_rows(const Tensor& x, const StepBatch& b, Tensor out) override {
    cuda::launch_gather_rows(x, device_of(b), out, stream_);
  }

  // out [n, out_f] = x [n, in] * w [out_f, in]^T. cuBLAS is column-major,
  // so it computes out^T = w * x^T on the same memory.
  void matmul(const Tensor& x, const Tensor& w, Tensor out) override {
    if (x.rows == 0) return;
    const float alpha = 1.0f, beta = 0.0f;
    PS_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.rows), static_cast<int>(x.rows),
                                 static_cast<int>(x.cols), &alpha, w.data, cuda_type(w.dtype), static_cast<int>(w.cols),
                                 x.data, cuda_type(x.dtype), static_cast<int>(x.cols), &beta, out.data,
                                 cuda_type(out.dtype), static_cast<int>(out.cols), CUBLAS_COMPUTE_32F,
                                 CUBLAS_GEMM_DEFAULT));
  }

  void write_kv(const Tensor& k, const Tensor& v, KvCache& cache, int layer, const StepBatch& b) override {
    cuda::launch_write_kv(k, v, cache.spec, cache.data(), layer, device_of(b), stream_);
  }

  void paged_attention(const Tensor& q, const KvCache& cache, int layer, const StepBatch& b, const AttentionParams& p,
                       Tensor out) override {
    const auto& d = device_of(b);
    const std::size_t need = cuda::attention_workspace_floats(d.num_tokens, p.num_heads, p.head_size, d.max_context_len);
    if (need > workspace_.capacity_floats) {
      synchronize();  // the old workspace may still be in use
      workspace_buffer_ = allocate(need * sizeof(float));
      workspace_ = {static_cast<float*>(workspace_buffer_.get()), need};
    }
    cuda::launch_paged_attention(q, cache.spec, cache.data(), layer, d, p, workspace_, out, stream_);
  }

  void copy_blocks(KvCache& cache, std::span<const BlockCopy> copies) override {
    const std::size_t bytes = cache.spec.bytes_per_block();
    auto* base = static_cast<std::byte*>(cache.data());
    for (const auto& c : copies) {
      check_block(cache, c.src);
      check_block(cache, c.dst);
      PS_CUDA_CHECK(cudaMemcpyAsync(base + c.dst * bytes, base + c.src * bytes, bytes, cudaMemcpyDeviceToDevice, stream_));
    }
  }

  // Swaps run on their own stream; the compute stream waits on an event, so
  // the next step never reads a block still in flight.
  void swap_blocks(const KvCache& src, KvCache& dst, std::span<const BlockCopy> copies) override {
    if (copies.empty()) return;
    const std::size_t bytes = src.spec.bytes_per_block();
    const auto kind = src.on_host ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
    PS_CUDA_CHECK(cudaEventRecord(swap_done_, stream_));  // blocks being swapped out are fully written
    PS_CUDA_CHECK(cudaStreamWaitEvent(swap_stream_, swap_done_, 0));
    for (const auto& c : copies) {
      check_block(src, c.src);
      check_block(dst, c.dst);
      PS_CUDA_CHECK(cudaMemcpyAsync(static_cast<std::byte*>(dst.data()) + c.dst * bytes,
                                    static_cast<const std::byte*>(src.data()) + c.src * bytes, bytes, kind, swap_stream_));
    }
    PS_CUDA_CHECK(cudaEventRecord(swap_done_, swap_stream_));
    PS_CUDA_CHECK(cudaStreamWaitEvent(stream_, swap_done_, 0));
    if (!src.on_host) PS_CUDA_CHECK(cudaEventSynchronize(swap_done_));  // host memory is read after return
  }

  bool samples_on_device() const override { return true; }
  void sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out) override {
    sampler_.sample(logits, batch, out, stream_);
  }

 private:
  void check_kv_dtype(const KvCacheSpec& spec) const {
    if (spec.dtype != options_.activation_dtype)
      throw std::invalid_argument("the KV cache must use the activation type (" +
                                  std::string(dtype_name(options_.activation_dtype)) + ")");
  }
  static void check_block(const KvCache& c, std::int32_t b) {
    if (b < 0 || b >= c.spec.num_blocks) throw std::out_of_range("block copy outside the pool");
  }

  CudaBackendOptions options_;
  cudaStream_t stream_ = nullptr, swap_stream_ = nullptr;
  cudaEvent_t swap_done_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  Buffer workspace_buffer_;
  std::vector<std::byte> packed_;      // this step's index arrays, packed
  std::shared_ptr<void> staging_;      // pinned copy of packed_ for the upload
  Buffer arena_;                       // the device copy kernels read
  std::size_t staging_bytes_ = 0;
  cuda::AttentionWorkspace workspace_;
  cuda::DeviceSampler sampler_;
};

}  // namespace

int cuda_device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
  const int n = cuda_device_count();
  if (n == 0) throw std::runtime_error("no CUDA device found");
  if (options.device < 0 || options.device >= n)
    throw std::runtime_error("CUDA device " + std::to_string(options.device) + " does not exist (" + std::to_string(n) +
                             " found)");
  return std::make_unique<CudaBackend>(options);
}

std::unique_ptr<Backend> make_cuda_backend(int device_index) {
  CudaBackendOptions o;
  o.device = device_index;
  return make_cuda_backend(o);
}

}  // namespace pagedserve::kernels
