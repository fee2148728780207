#include "kernels/cuda/cuda_backend.hpp"

#include <array>
#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "kernels/attention_plan.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/device_sampler.hpp"

namespace pagedserve::kernels {

namespace {

using cuda::DeviceBatch;

// Where each index array of a step lies in the packed upload.
struct BatchLayout {
  std::size_t slots, ids, pos, seq, ctx, tables, rows, starts, tiles, bytes;
  int num_tiles;
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
  l.starts = put(meta.query_start.data(), meta.query_start.size() * 4);
  const auto tiles = attention::prefill_tiles(meta.query_start);
  static_assert(sizeof(attention::PrefillTile) == 12, "three int32 a tile");
  l.tiles = put(tiles.data(), tiles.size() * sizeof(attention::PrefillTile));
  l.num_tiles = static_cast<int>(tiles.size());
  l.bytes = host.size();
  return l;
}

// A step's batch: device pointers into one of the backend's two batch
// arenas, valid until the second prepare() after it.
class CudaStepBatch final : public StepBatch {
 public:
  CudaStepBatch(const BatchMetadata& meta, const BatchLayout& l, std::byte* base, int max_context_len)
      : StepBatch(meta) {
    device_.slot_mapping = reinterpret_cast<const std::int64_t*>(base + l.slots);
    device_.token_ids = reinterpret_cast<const std::int32_t*>(base + l.ids);
    device_.positions = reinterpret_cast<const std::int32_t*>(base + l.pos);
    device_.token_seq = reinterpret_cast<const std::int32_t*>(base + l.seq);
    device_.context_lens = reinterpret_cast<const std::int32_t*>(base + l.ctx);
    device_.block_tables = reinterpret_cast<const std::int32_t*>(base + l.tables);
    device_.logits_rows = reinterpret_cast<const std::int32_t*>(base + l.rows);
    device_.query_start = reinterpret_cast<const std::int32_t*>(base + l.starts);
    device_.prefill_tiles = reinterpret_cast<const std::int32_t*>(base + l.tiles);
    device_.num_prefill_tiles = l.num_tiles;
    device_.num_tokens = meta.num_tokens();
    device_.num_seqs = meta.num_seqs();
    device_.max_blocks_per_seq = meta.max_blocks_per_seq;
    device_.num_logits_rows = static_cast<int>(meta.logits_rows.size());
    device_.max_context_len = max_context_len;
  }
  const DeviceBatch& device() const { return device_; }

 private:
  DeviceBatch device_;
};

const DeviceBatch& device_of(const StepBatch& b) { return static_cast<const CudaStepBatch&>(b).device(); }

cudaDataType_t cuda_type(DType t) {
  return t == DType::f32 ? CUDA_R_32F : t == DType::f16 ? CUDA_R_16F : CUDA_R_16BF;
}

constexpr std::size_t kCublasWorkspaceBytes = 32u << 20;

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaBackendOptions& o) : options_(o), attention_{o.attention_kernel, o.attention_partition} {
    bind();
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&swap_stream_, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaEventCreateWithFlags(&swap_done_, cudaEventDisableTiming));
    for (auto& u : uploads_) PS_CUDA_CHECK(cudaEventCreateWithFlags(&u.done, cudaEventDisableTiming));
    PS_CUDA_CHECK(cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, o.device));
    PS_CUBLAS_CHECK(cublasCreate(&cublas_));
    PS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    cublas_workspace_ = allocate(kCublasWorkspaceBytes);
    PS_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.get(), kCublasWorkspaceBytes));
  }
  ~CudaBackend() override {
    cudaSetDevice(options_.device);
    drop_graphs();
    cudaStreamSynchronize(stream_);
    cudaStreamSynchronize(swap_stream_);
    cublasDestroy(cublas_);
    cudaEventDestroy(swap_done_);
    for (auto& u : uploads_) cudaEventDestroy(u.done);
    cudaStreamDestroy(swap_stream_);
    cudaStreamDestroy(stream_);
  }

  std::string name() const override { return "cuda:" + std::to_string(options_.device); }
  DType activation_dtype() const override { return options_.activation_dtype; }

  DeviceMemoryInfo memory_info() const override {
    bind();
    std::size_t free_bytes = 0, total = 0;
    PS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    return {free_bytes, total};
  }

  // An out-of-memory is reported once: the error is taken off the runtime
  // so the next, unrelated launch check does not see it again.
  Buffer allocate(std::size_t bytes) override {
    bind();
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, std::max<std::size_t>(bytes, 1));
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw std::runtime_error("cannot allocate " + std::to_string(bytes) + " bytes on " + name() + ": " +
                               cudaGetErrorString(err));
    }
    const int device = options_.device;
    return Buffer{std::shared_ptr<void>(p, [device](void* q) {
                    cudaSetDevice(device);
                    cudaFree(q);
                  }),
                  bytes};
  }

  DType weight_dtype() const override { return options_.activation_dtype; }

  // The weight's own bytes go up once; the conversion to the activation type
  // runs on the device (dummy weights are generated there outright).
  void upload_weight_into(const HostTensorView& host, Tensor dst) override {
    bind();
    if (dst.rows != host.rows || dst.cols != host.cols) throw std::invalid_argument("upload_weight_into: shape mismatch");
    const auto n = host.rows * host.cols;
    if (host.synthetic) {
      fill_synthetic(dst, *host.synthetic);
    } else if (host.dtype == dst.dtype) {
      PS_CUDA_CHECK(cudaMemcpyAsync(dst.data, host.data, dst.bytes(), cudaMemcpyHostToDevice, stream_));
    } else {
      Buffer raw = allocate(static_cast<std::size_t>(n) * dtype_size(host.dtype));
      PS_CUDA_CHECK(cudaMemcpyAsync(raw.get(), host.data, raw.bytes, cudaMemcpyHostToDevice, stream_));
      cuda::launch_convert(raw.get(), host.dtype, dst.data, dst.dtype, n, stream_);
      synchronize();  // `raw` is freed on return
    }
    synchronize();
  }

  void fill_synthetic(Tensor t, const SyntheticFill& fill) override {
    bind();
    cuda::launch_synthetic_fill(fill, t.data, t.dtype, t.numel(), stream_);
  }

  // Through buffers kept from step to step: no allocation inside a step,
  // and the copy back lands in pinned memory (full-speed DMA).
  void to_host_f32(const Tensor& t, std::span<float> out) override {
    bind();
    if (out.size() != static_cast<std::size_t>(t.numel())) throw std::invalid_argument("to_host_f32: size mismatch");
    const std::size_t bytes = out.size() * sizeof(float);
    if (bytes > readback_bytes_) {
      synchronize();
      float_scratch_ = allocate(bytes);
      void* p = nullptr;
      PS_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
      readback_ = std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); });
      readback_bytes_ = bytes;
    }
    const void* src = t.data;
    if (t.dtype != DType::f32) {
      cuda::launch_to_f32(t.data, t.dtype, static_cast<float*>(float_scratch_.get()), t.numel(), stream_);
      src = float_scratch_.get();
    }
    PS_CUDA_CHECK(cudaMemcpyAsync(readback_.get(), src, bytes, cudaMemcpyDeviceToHost, stream_));
    PS_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::memcpy(out.data(), readback_.get(), bytes);
  }

  // Hidden states from another pipeline stage: up as f32 (the copy from
  // pageable memory returns once the runtime has staged the host values),
  // converted on the device when activations are f16/bf16.
  void from_host_f32(std::span<const float> in, Tensor out) override {
    bind();
    if (in.size() != static_cast<std::size_t>(out.numel())) throw std::invalid_argument("from_host_f32: size mismatch");
    if (in.empty()) return;
    const std::size_t bytes = in.size() * sizeof(float);
    if (out.dtype == DType::f32) {
      PS_CUDA_CHECK(cudaMemcpyAsync(out.data, in.data(), bytes, cudaMemcpyHostToDevice, stream_));
      return;
    }
    if (bytes > upload_scratch_.bytes) {
      synchronize();  // the old scratch may still be read by a queued conversion
      upload_scratch_ = allocate(bytes);
    }
    PS_CUDA_CHECK(cudaMemcpyAsync(upload_scratch_.get(), in.data(), bytes, cudaMemcpyHostToDevice, stream_));
    cuda::launch_convert(upload_scratch_.get(), DType::f32, out.data, out.dtype, out.numel(), stream_);
  }

  int device() const { return options_.device; }
  cudaStream_t stream() const { return stream_; }

  KvCache allocate_kv_cache(const KvCacheSpec& spec) override {
    check_kv_dtype(spec);
    KvCache c{spec, allocate(spec.total_bytes()), false};
    // On the compute stream, so no step reads a block still being zeroed.
    PS_CUDA_CHECK(cudaMemsetAsync(c.data(), 0, spec.total_bytes(), stream_));
    return c;
  }

  // Pinned host memory, so swaps run as asynchronous DMA.
  KvCache allocate_swap_space(const KvCacheSpec& spec) override {
    bind();
    check_kv_dtype(spec);
    void* p = nullptr;
    PS_CUDA_CHECK(cudaHostAlloc(&p, std::max<std::size_t>(spec.total_bytes(), 1), cudaHostAllocDefault));
    return KvCache{spec, Buffer{std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); }), spec.total_bytes()}, true};
  }

  // Step metadata goes up from two pinned buffers in turn, each with its own
  // device arena, so preparing step t+1 does not wait for step t: only the
  // upload from the same buffer two steps back must be over (its event).
  std::unique_ptr<StepBatch> prepare(const BatchMetadata& meta) override {
    bind();
    const BatchLayout layout = pack_batch(meta, packed_);
    Upload& u = stage(layout);
    if (layout.bytes > u.arena.bytes) {
      synchronize();  // the old arena may still be read by a queued step
      u.arena = allocate(layout.bytes * 2);
    }
    upload(u, u.arena.get(), layout);
    return std::make_unique<CudaStepBatch>(meta, layout, static_cast<std::byte*>(u.arena.get()), meta.max_context_len());
  }

  // --- recorded steps ------------------------------------------------------

  bool supports_graphs() const override { return options_.graphs; }

  // Into the one arena recorded steps read; it moves only when a larger
  // layout needs room, and then every recording is dropped.
  std::unique_ptr<StepBatch> prepare_fixed(const BatchMetadata& meta, int fixed_max_context) override {
    bind();
    const BatchLayout layout = pack_batch(meta, packed_);
    Upload& u = stage(layout);
    if (layout.bytes > graph_arena_.bytes) {
      synchronize();
      drop_graphs();
      graph_arena_ = allocate(layout.bytes * 2);
    }
    upload(u, graph_arena_.get(), layout);
    return std::make_unique<CudaStepBatch>(meta, layout, static_cast<std::byte*>(graph_arena_.get()), fixed_max_context);
  }

  void begin_capture() override {
    bind();
    PS_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    capturing_ = true;
  }

  void end_capture(int id) override {
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    PS_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    PS_CUDA_CHECK(err);
    if (auto old = graphs_.find(id); old != graphs_.end()) cudaGraphExecDestroy(old->second);
    graphs_[id] = exec;
  }

  // After a failure inside a recording: the stream leaves capture mode.
  void abort_capture() override {
    if (!capturing_) return;
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    cudaGetLastError();
  }

  bool has_graph(int id) const override { return graphs_.count(id) > 0; }

  void replay(int id) override {
    bind();
    PS_CUDA_CHECK(cudaGraphLaunch(graphs_.at(id), stream_));
  }

  void drop_graphs() override {
    for (auto& [id, exec] : graphs_) cudaGraphExecDestroy(exec);
    graphs_.clear();
  }

  void synchronize() override {
    bind();
    PS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void embedding(const Tensor& table, const StepBatch& b, Tensor out) override {
    cuda::launch_embedding(table, device_of(b), out, stream_);
  }
  void embedding_rows(const Tensor& table, std::int32_t first_id, const StepBatch& b, Tensor out) override {
    cuda::launch_embedding_rows(table, first_id, device_of(b), out, stream_);
  }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor out) override {
    cuda::launch_rms_norm(x, w, eps, out, stream_);
  }
  void rotary(Tensor q, Tensor k, const StepBatch& b, const RopeParams& p) override {
    cuda::launch_rotary(q, k, device_of(b), p, stream_);
  }
  void silu_mul(const Tensor& gate, const Tensor& up, Tensor out) override { cuda::launch_silu_mul(gate, up, out, stream_); }
  void add(Tensor x, const Tensor& y) override { cuda::launch_add(x, y, stream_); }
  void add_bias(Tensor x, const Tensor& bias) override { cuda::launch_add_bias(x, bias, stream_); }
  void add_rms_norm(Tensor x, const Tensor& residual, const Tensor& w, float eps, Tensor out) override {
    cuda::launch_add_rms_norm(x, residual, w, eps, out, stream_);
  }
  bool merges_projections() const override { return true; }
  void split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const StepBatch& b,
                        const RopeParams& p) override {
    cuda::launch_split_qkv_rotary(qkv, q, k, v, device_of(b), p, stream_);
  }
  void silu_mul_halves(const Tensor& gate_up, Tensor out) override { cuda::launch_silu_mul_halves(gate_up, out, stream_); }
  void gather_logit_rows(const Tensor& x, const StepBatch& b, Tensor out) override {
    cuda::launch_gather_rows(x, device_of(b), out, stream_);
  }

  // out [n, out_f] = x [n, in] * w [out_f, in]^T. cuBLAS is column-major,
  // so it computes out^T = w * x^T on the same memory.
  // Decoding a few sequences reads each weight once: the GEMV kernel; larger
  // batches reuse weights across rows: cuBLAS.
  void matmul(const Tensor& x, const Tensor& w, Tensor out) override {
    if (x.rows == 0) return;
    if (cuda::gemv_applies(x, w, out)) return cuda::launch_gemv(x, w, out, stream_);
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
    cuda::AttentionConfig config = attention_;
    config.partition = attention::split_partition(d.num_tokens, p.num_kv_heads, d.max_context_len, attention_.partition,
                                                  4 * num_sms_);
    const std::size_t need =
        cuda::attention_workspace_floats(d.num_tokens, p.num_heads, p.head_size, d.max_context_len, config.partition);
    if (need > workspace_.capacity_floats) {
      if (capturing_) throw std::logic_error("the attention workspace cannot grow while a step is recorded");
      synchronize();  // the old workspace may still be in use
      drop_graphs();  // they read the old one
      workspace_buffer_ = allocate(need * sizeof(float));
      workspace_ = {static_cast<float*>(workspace_buffer_.get()), need};
    }
    cuda::launch_paged_attention(q, cache.spec, cache.data(), layer, d, p, config, workspace_, out, stream_);
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
    // Constrained rows carry token masks the device sampler does not read
    // yet: such a batch is drawn on the host (the twin applies the masks).
    if (batch.has_masks()) return Backend::sample(logits, batch, out);
    sampler_.sample(logits, batch, out, stream_);
  }

 private:
  struct Upload {
    std::shared_ptr<void> staging;  // pinned copy of packed_
    Buffer arena;                   // the device copy kernels read
    std::size_t bytes = 0;
    cudaEvent_t done = nullptr;     // recorded after the upload from staging
  };

  // The next pinned staging buffer, free to overwrite: the upload from it
  // two steps back is over.
  Upload& stage(const BatchLayout& layout) {
    Upload& u = uploads_[next_upload_];
    next_upload_ ^= 1;
    if (layout.bytes > u.bytes) {
      synchronize();
      void* p = nullptr;
      PS_CUDA_CHECK(cudaHostAlloc(&p, layout.bytes * 2, cudaHostAllocDefault));
      u.staging = std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); });
      u.bytes = layout.bytes * 2;
    } else {
      PS_CUDA_CHECK(cudaEventSynchronize(u.done));
    }
    return u;
  }

  void upload(Upload& u, void* device, const BatchLayout& layout) {
    std::memcpy(u.staging.get(), packed_.data(), layout.bytes);
    PS_CUDA_CHECK(cudaMemcpyAsync(device, u.staging.get(), layout.bytes, cudaMemcpyHostToDevice, stream_));
    PS_CUDA_CHECK(cudaEventRecord(u.done, stream_));
  }

  // The executor's thread is not the one that built the backend: every entry
  // point that may run first on a new thread makes this device current.
  void bind() const {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current == options_.device) return;
    PS_CUDA_CHECK(cudaSetDevice(options_.device));
  }

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
  std::array<Upload, 2> uploads_;
  int next_upload_ = 0;
  Buffer graph_arena_;                // what recorded steps read their index arrays from
  std::unordered_map<int, cudaGraphExec_t> graphs_;
  bool capturing_ = false;
  Buffer cublas_workspace_;           // cuBLAS allocates nothing while a step is recorded
  Buffer float_scratch_;              // to_host_f32's conversion
  Buffer upload_scratch_;             // from_host_f32's f32 values before conversion
  std::shared_ptr<void> readback_;    // pinned landing place of to_host_f32
  std::size_t readback_bytes_ = 0;
  cuda::AttentionWorkspace workspace_;
  cuda::AttentionConfig attention_;
  int num_sms_ = 1;  // attention splits long contexts to keep them all busy
  cuda::DeviceSampler sampler_;
};

}  // namespace

CudaPlace cuda_place_of(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda) throw std::invalid_argument("the " + backend.name() + " backend is not a CUDA backend of this module");
  return {cuda->device(), cuda->stream()};
}

CudaProbe probe_cuda() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaSuccess) return {n, ""};
  cudaGetLastError();
  if (err == cudaErrorNoDevice) return {0, ""};
  return {0, std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err)};
}

int cuda_device_count() { return probe_cuda().device_count; }

bool nvidia_gpu_visible() {
  std::error_code ec;
  return std::filesystem::exists("/dev/nvidia0", ec) || std::filesystem::exists("/proc/driver/nvidia/gpus", ec);
}

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
  const CudaProbe probe = probe_cuda();
  const int n = probe.device_count;
  if (n == 0 && (probe.error.empty() || !nvidia_gpu_visible()))
    throw std::runtime_error("no CUDA device found" + (probe.error.empty() ? "" : " (" + probe.error + ")"));
  if (n == 0) throw std::runtime_error("this host shows an NVIDIA GPU but CUDA cannot use it (" + probe.error + ")");
  if (options.attention_partition < 1 || options.attention_partition > 4096)
    throw std::invalid_argument("the attention partition must hold 1 to 4096 keys");
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
