#pragma once
// The backend interface: every operation the Llama forward pass needs, on the
// backend's own memory. model/ is written against this alone; kernels/cpu is
// the reference implementation and kernels/cuda the GPU one.
//
// Shapes in comments are [rows, cols] of a Tensor. hs = head_size.
// Activations use activation_dtype(); weights use what upload_weight chose.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "kernels/batch.hpp"
#include "kernels/kv_cache.hpp"
#include "kernels/rope.hpp"
#include "kernels/synthetic.hpp"
#include "kernels/tensor.hpp"
#include "kernels/sampling.hpp"

namespace pagedserve::kernels {

enum class RopeLayout : std::uint8_t {
  adjacent_pairs,  // llama2.c / Meta: rotate (x[2i], x[2i+1])
  rotate_halves,   // Hugging Face: rotate (x[i], x[i + hs/2])
};

struct RopeParams {
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_size = 0;
  float theta = 10000.0f;
  RopeLayout layout = RopeLayout::adjacent_pairs;
  RopeScaling scaling = {};  // Llama 3.x frequency rescaling (inactive by default)
};

struct AttentionParams {
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_size = 0;
  float scale = 1.0f;  // usually 1/sqrt(head_size)
};

// A host tensor handed to upload_weight (fp32, fp16 or bf16, row-major), or
// a synthetic one (data null) that the backend generates in its own memory.
struct HostTensorView {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::optional<SyntheticFill> synthetic;
};

struct DeviceMemoryInfo {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;  // "cpu", "cuda:0"
  virtual DType activation_dtype() const = 0;
  virtual DeviceMemoryInfo memory_info() const = 0;

  // --- memory -------------------------------------------------------------
  virtual Buffer allocate(std::size_t bytes) = 0;
  OwnedTensor allocate_tensor(DType dtype, std::int64_t rows, std::int64_t cols);
  // The type weights are kept in (the CPU backend keeps fp32; CUDA the
  // activation type).
  virtual DType weight_dtype() const = 0;
  // The type a weight of this shape is kept in: weight_dtype(), except where
  // a backend keeps vectors (norms, biases) apart from matrices.
  virtual DType weight_dtype_for(std::int64_t rows, std::int64_t cols) const {
    (void)rows, (void)cols;
    return weight_dtype();
  }
  // Copies a host weight into `dst` [rows, cols] of weight_dtype(),
  // converting (or generating a synthetic one).
  virtual void upload_weight_into(const HostTensorView& host, Tensor dst) = 0;
  // Copies a host weight into new backend memory.
  OwnedTensor upload_weight(const HostTensorView& host);
  // Weights of one width stacked by rows into one tensor: q/k/v or gate/up
  // as one projection.
  OwnedTensor upload_stacked(std::span<const HostTensorView> parts);
  // Fills a tensor with synthetic values (benchmarks: never time on zeros).
  virtual void fill_synthetic(Tensor t, const SyntheticFill& fill) = 0;
  // Copies a tensor back as fp32 into `out` (out.size() == t.numel()).
  virtual void to_host_f32(const Tensor& t, std::span<float> out) = 0;
  // Copies fp32 host values into an activation tensor (in.size() ==
  // out.numel()), converting to its type: hidden states from another
  // pipeline stage. The CPU and CUDA backends take them; the default
  // throws std::invalid_argument.
  virtual void from_host_f32(std::span<const float> in, Tensor out);
  // The GPU pool (on the device) and the CPU swap pool (host, pinned for CUDA).
  virtual KvCache allocate_kv_cache(const KvCacheSpec& spec) = 0;
  virtual KvCache allocate_swap_space(const KvCacheSpec& spec) = 0;

  // --- one step -------------------------------------------------------------
  // Prepares the batch's index arrays for the kernels of one step.
  virtual std::unique_ptr<StepBatch> prepare(const BatchMetadata& meta) = 0;
  virtual void synchronize() = 0;

  // out[t] = table[token_ids[t]]                         out [num_tokens, dim]
  virtual void embedding(const Tensor& table, const StepBatch& batch, Tensor out) = 0;
  // A vocab-parallel rank's share of the lookup: `table` holds the rows of
  // token ids [first_id, first_id + table.rows); other tokens get zeros (an
  // all-reduce over the ranks then gives every row). The CPU and CUDA
  // backends have it; the default throws std::invalid_argument.
  virtual void embedding_rows(const Tensor& table, std::int32_t first_id, const StepBatch& batch, Tensor out);
  // out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight    (out may alias x)
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out) = 0;
  // out [n, out_features] = x [n, in] * w [out_features, in]^T
  virtual void matmul(const Tensor& x, const Tensor& w, Tensor out) = 0;
  // Rotates q [num_tokens, heads*hs] and k [num_tokens, kv_heads*hs] in place
  // by each token's position.
  virtual void rotary(Tensor q, Tensor k, const StepBatch& batch, const RopeParams& p) = 0;
  // out [n, h] = silu(gate [n, h]) * up [n, h]
  virtual void silu_mul(const Tensor& gate, const Tensor& up, Tensor out) = 0;
  // x += y, elementwise
  virtual void add(Tensor x, const Tensor& y) = 0;
  // x [n, c] += bias [1, c] on every row: projection biases (Qwen2's q/k/v).
  virtual void add_bias(Tensor x, const Tensor& bias) = 0;
  // RMSNorm of every head (each head_size-wide slice of a row) in place,
  // with one weight [1, head_size] for all heads: Qwen3's q_norm / k_norm.
  // It is rms_norm over x seen as [rows * heads, head_size].
  void head_rms_norm(Tensor x, const Tensor& weight, float eps);
  // x += residual, then out = rms_norm(x) * weight: one pass on a GPU. The
  // default is add then rms_norm.
  virtual void add_rms_norm(Tensor x, const Tensor& residual, const Tensor& weight, float eps, Tensor out);

  // Merged projections: whether the model runs q/k/v and gate/up as one
  // GEMM each (fewer launches on a GPU; the CPU keeps separate GEMMs, whose
  // sums are the ones llama2.c's outputs were made with).
  virtual bool merges_projections() const { return false; }
  // From qkv [n, (heads + 2*kv_heads)*hs] (the q, k, v projections side by
  // side): q and k rotated into their own tensors, v copied.
  virtual void split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const StepBatch& batch,
                                const RopeParams& p) = 0;
  // out [n, h] = silu(gate_up[:, :h]) * gate_up[:, h:]
  virtual void silu_mul_halves(const Tensor& gate_up, Tensor out) = 0;
  // out [rows.size(), cols] = x[batch.logits_rows[i]]
  virtual void gather_logit_rows(const Tensor& x, const StepBatch& batch, Tensor out) = 0;

  // Writes k, v [num_tokens, kv_heads*hs] of `layer` into their slots.
  virtual void write_kv(const Tensor& k, const Tensor& v, KvCache& cache, int layer,
                        const StepBatch& batch) = 0;
  // PagedAttention over the cache (prefill chunks and decode tokens alike):
  // out [num_tokens, heads*hs] from q [num_tokens, heads*hs].
  virtual void paged_attention(const Tensor& q, const KvCache& cache, int layer,
                               const StepBatch& batch, const AttentionParams& p, Tensor out) = 0;

  // --- recorded steps (CUDA graphs) ---------------------------------------
  // A decode step's kernels recorded once per batch shape and replayed: one
  // launch instead of hundreds. Recorded launches read their index arrays
  // from one fixed place (prepare_fixed), with `fixed_max_context` standing
  // in for the batch's longest context (it decides the attention's split).
  // A graph stays valid until drop_graphs() or until the backend drops them
  // itself (a buffer they read moved); has_graph() says which.
  virtual bool supports_graphs() const { return false; }
  virtual std::unique_ptr<StepBatch> prepare_fixed(const BatchMetadata& meta, int fixed_max_context);
  virtual void begin_capture();
  virtual void end_capture(int id);
  virtual void abort_capture() {}
  virtual bool has_graph(int id) const;
  virtual void replay(int id);
  virtual void drop_graphs() {}

  // Copy-on-write: whole blocks inside one pool.
  virtual void copy_blocks(KvCache& cache, std::span<const BlockCopy> copies) = 0;
  // Swap: whole blocks from one pool to another (GPU <-> CPU swap space).
  virtual void swap_blocks(const KvCache& src, KvCache& dst, std::span<const BlockCopy> copies) = 0;

  // --- sampling (kernels/sampling.hpp) ----------------------------------------
  // Whether sample() runs where the logits are, so that only token ids and
  // requested logprobs cross to the host (the CUDA backend).
  virtual bool samples_on_device() const { return false; }
  // Draws every row of `batch` from `logits` [rows, vocab] in backend
  // memory. The default copies the logits to the host and runs the twin.
  virtual void sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out);
};

// "cpu" or "cuda:N"; throws std::invalid_argument naming what is wrong
// (an unknown device, or CUDA asked for in a build without it).
struct BackendOptions {
  // The type activations and the KV cache use: the CPU backend computes in
  // f32 only; CUDA takes any (f16 when none is named).
  std::optional<DType> activation;
  // CUDA: the first PagedAttention kernel instead of the fast one (a
  // known-good fallback, --attention-kernel simple).
  bool simple_attention = false;
  // CUDA: every step launched kernel by kernel, none recorded as a graph
  // (--enforce-eager).
  bool enforce_eager = false;
  // CPU: the type weight matrices are kept in (f32, bf16 or q8_0; norms and
  // biases stay f32), converted at load (resolve_weight_dtype).
  std::optional<DType> weights;
};
std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& options = {});
// N of a device "cuda:N" (0 for "cuda"); std::invalid_argument naming the
// form for anything else.
int cuda_device_index(const std::string& device);
// Why a build without the CUDA backend refuses what needs it.
inline constexpr const char* kNoCudaBackend = "this build has no CUDA backend (nvcc was not found at build time)";

// --dtype: "auto" follows the checkpoint (bf16 stays bf16, f16 stays f16, f32
// runs in f16 on a GPU, as vLLM does) and is f32 on the CPU; f32, f16 and
// bf16 are taken as they are on a GPU. The CPU computes in f32 whatever the
// flag: there bf16 names the weights' type (resolve_weight_dtype). Throws std::invalid_argument for anything else
// or for a type the device cannot run.
DType resolve_activation_dtype(const std::string& flag, DType checkpoint, const std::string& device);
// The CPU backend's weight matrices from --dtype and --quantization:
// --quantization int8 keeps them as q8_0 (int8 in groups of 32, one scale
// each), --dtype bf16 as bf16, otherwise f32; activations and the KV cache
// stay f32 either way. A GPU keeps weights in its activation type (nullopt);
// int8 there is refused with std::invalid_argument, as is anything unknown.
std::optional<DType> resolve_weight_dtype(const std::string& dtype_flag, const std::string& quantization,
                                          const std::string& device);
std::optional<DType> parse_dtype(const std::string& name);  // "f32"/"float32", "f16"/"float16"/"half", "bf16"/"bfloat16"
// Which backends this build has, e.g. "cpu, cuda (sm_90)".
std::string available_backends();

// The CUDA devices this host offers (loading the CUDA module): their
// number, and when none, why ("" when the runtime simply found none; a
// build without CUDA says so). Throws std::invalid_argument when the
// module cannot be loaded.
struct CudaDevices {
  int count = 0;
  std::string error;
};
CudaDevices find_cuda_devices();

}  // namespace pagedserve::kernels
