// The GPU sampler's kernels: one block per row, the same steps and the same
// arithmetic as the host twin (kernels/sampling_twin.cpp), which the GPU
// tests compare it with.
//
//   to_work:    work [rows, vocab] fp32 = logits[row.logits_row]
//   penalize:   one thread per penalty token of each drawing row
//   sample_row: max key -> log-sum-exp -> (sampling rows) top-k select by
//               count, top-p select by mass, Gumbel-max draw -> top logprobs
//
// The top-k and top-p cuts are radix selects over the 64-bit sort keys
// (value, index), eight bits a pass from the top, stopping as soon as the
// chosen bucket holds one key: no sort, and ties fall where the twin puts
// them.

#include "kernels/cuda/device_sampler.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_types.cuh"
#include "kernels/sampling_math.hpp"

namespace pagedserve::kernels::cuda {

namespace {

namespace sm = ::pagedserve::kernels::sampling;

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;

template <typename T>
__global__ void to_work_kernel(const T* __restrict__ logits,  // [logit rows, vocab]
                               std::int64_t vocab, const SampleRow* __restrict__ rows,
                               float* __restrict__ work) {  // [sample rows, vocab]
  const SampleRow& row = rows[blockIdx.y];
  const T* src = logits + static_cast<std::int64_t>(row.logits_row) * vocab;
  float* dst = work + static_cast<std::int64_t>(blockIdx.y) * vocab;
  for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < vocab; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = to_float(src[i]);
}

// The builder lists each token once per row, so no two threads write one logit.
__global__ void penalize_kernel(std::int64_t vocab, const SampleRow* __restrict__ rows,
                                const PenaltyToken* __restrict__ penalties, float* __restrict__ work) {
  const SampleRow& row = rows[blockIdx.x];
  if (!row.draws) return;
  float* w = work + static_cast<std::int64_t>(blockIdx.x) * vocab;
  for (std::uint32_t p = threadIdx.x; p < row.num_penalties; p += blockDim.x) {
    const PenaltyToken t = penalties[row.first_penalty + p];
    if (t.token_id < 0 || t.token_id >= vocab) continue;
    w[t.token_id] = sm::penalize(w[t.token_id], row.repetition_penalty, row.presence_penalty, row.frequency_penalty,
                                 t.output_count);
  }
}

// --- block reductions (every thread gets the result) ---------------------------

struct Scratch {
  std::uint64_t keys[kWarps];
  double values[kWarps];
  std::int32_t ids[kWarps];
  unsigned int count[sm::kRadixBuckets];
  double mass[sm::kRadixBuckets];
  std::uint64_t prefix;
  int done;
  double above, target;
};

__device__ std::uint64_t block_max_key(std::uint64_t k, Scratch& s) {
  for (int o = 16; o > 0; o >>= 1) k = max(k, __shfl_xor_sync(0xffffffffu, k, o));
  __syncthreads();
  if ((threadIdx.x & 31) == 0) s.keys[threadIdx.x >> 5] = k;
  __syncthreads();
  k = 0;
  for (int w = 0; w < kWarps; ++w) k = max(k, s.keys[w]);
  return k;
}

__device__ double block_sum(double v, Scratch& s) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) s.values[threadIdx.x >> 5] = v;
  __syncthreads();
  v = 0;
  for (int w = 0; w < kWarps; ++w) v += s.values[w];
  return v;
}

// The larger score; the smaller id among equal scores; id -1 loses to all.
__device__ bool better(double a, std::int32_t ia, double b, std::int32_t ib) {
  if (ib < 0) return ia >= 0;
  if (ia < 0) return false;
  return a > b || (a == b && ia < ib);
}

__device__ std::int32_t block_argmax(double v, std::int32_t id, Scratch& s) {
  for (int o = 16; o > 0; o >>= 1) {
    const double ov = __shfl_xor_sync(0xffffffffu, v, o);
    const std::int32_t oid = __shfl_xor_sync(0xffffffffu, id, o);
    if (better(ov, oid, v, id)) v = ov, id = oid;
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) s.values[threadIdx.x >> 5] = v, s.ids[threadIdx.x >> 5] = id;
  __syncthreads();
  v = -INFINITY, id = -1;
  for (int w = 0; w < kWarps; ++w)
    if (better(s.values[w], s.ids[w], v, id)) v = s.values[w], id = s.ids[w];
  return id;
}

// --- the radix selects ------------------------------------------------------------

// The key of the k-th best candidate (by mass: the smallest key whose
// prefix of candidates holds `target` of the mass). Returns a key K such that
// the candidates with key >= K are exactly the selected prefix.
template <bool kByMass>
__device__ std::uint64_t radix_select(const float* w, std::int64_t vocab, const sm::Candidates& c, std::uint32_t k, double top_p, Scratch& s) {
  if (threadIdx.x == 0) s.prefix = 0, s.done = 0, s.above = 0;
  for (int shift = sm::kRadixTopShift; shift >= 0; shift -= sm::kRadixBits) {
    for (int d = threadIdx.x; d < sm::kRadixBuckets; d += blockDim.x) s.count[d] = 0, s.mass[d] = 0;
    __syncthreads();
    const std::uint64_t high = sm::radix_high_mask(shift), prefix = s.prefix;
    for (std::int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      const float logit = w[i];
      const std::uint64_t key = sm::sort_key(logit, static_cast<std::int32_t>(i));
      if ((key & high) != prefix || !c.keeps(key, logit)) continue;
      const int d = sm::radix_digit(key, shift);
      atomicAdd(&s.count[d], 1u);
      if (kByMass) atomicAdd(&s.mass[d], c.mass(logit));
    }
    __syncthreads();
    if (threadIdx.x == 0) {  // only thread 0 walks the buckets and keeps the rank
      if (kByMass && shift == sm::kRadixTopShift) {
        double total = 0;
        for (int d = sm::kRadixBuckets - 1; d >= 0; --d) total += s.mass[d];
        s.target = top_p * total;
      }
      const sm::RadixChoice choice = sm::radix_choose(s.count, s.mass, kByMass, k, s.above, s.target);
      k = choice.rank;
      s.above = choice.above;
      s.prefix |= static_cast<std::uint64_t>(choice.bucket) << shift;
      s.done = s.count[choice.bucket] <= 1;
    }
    __syncthreads();
    const int done = s.done;
    __syncthreads();
    if (done) break;
  }
  const std::uint64_t threshold = s.prefix;
  __syncthreads();  // read by all before a next select resets it
  return threshold;
}

__global__ void __launch_bounds__(kThreads) sample_kernel(const float* __restrict__ work,  // [rows, vocab]
                                                          std::int64_t vocab, const SampleRow* __restrict__ rows,
                                                          std::int32_t* __restrict__ token_ids,     // [rows]
                                                          float* __restrict__ logprobs,             // [rows]
                                                          std::int32_t* __restrict__ top_ids,       // [num_top]
                                                          float* __restrict__ top_logprobs) {       // [num_top]
  __shared__ Scratch s;
  const SampleRow row = rows[blockIdx.x];
  const float* w = work + static_cast<std::int64_t>(blockIdx.x) * vocab;

  std::uint64_t best = 0;
  for (std::int64_t i = threadIdx.x; i < vocab; i += blockDim.x)
    best = max(best, sm::sort_key(w[i], static_cast<std::int32_t>(i)));
  best = block_max_key(best, s);
  const float max_logit = sm::key_value(best);
  double sum = 0;
  for (std::int64_t i = threadIdx.x; i < vocab; i += blockDim.x) sum += exp(static_cast<double>(w[i] - max_logit));
  const double lse = static_cast<double>(max_logit) + log(block_sum(sum, s));

  if (row.draws) {
    std::int32_t token = sm::key_index(best);
    if (!row.greedy()) {
      // top_k over the row, top_p over the top_k mass, min_p last (sampling.hpp).
      sm::Candidates c{max_logit, row.temperature, -INFINITY, 0};
      if (row.top_k > 0 && row.top_k < vocab)
        c.floor_key = radix_select<false>(w, vocab, c, static_cast<std::uint32_t>(row.top_k), 1.0, s);
      // The select stops at a prefix that may lie below the top-k floor: keep both.
      if (row.top_p < 1.0f)
        c.floor_key = max(c.floor_key, radix_select<true>(w, vocab, c, 0, static_cast<double>(row.top_p), s));
      c.min_p_floor = sm::min_p_floor(row.min_p);
      double score = -INFINITY;
      std::int32_t id = -1;
      for (std::int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
        const auto t = static_cast<std::int32_t>(i);
        const std::uint64_t key = sm::sort_key(w[i], t);
        if (!c.keeps(key, w[i])) continue;
        const double g = sm::gumbel_score(sm::scaled_logit(w[i], max_logit, row.temperature), row.seed, row.counter, t);
        if (better(g, t, score, id)) score = g, id = t;
      }
      token = block_argmax(score, id, s);
    }
    if (threadIdx.x == 0) {
      token_ids[blockIdx.x] = token;
      logprobs[blockIdx.x] = static_cast<float>(static_cast<double>(w[token]) - lse);
    }
  }

  // Top logprobs: the best key below the previous one, n times.
  std::uint64_t below = ~0ull;
  for (int n = 0; n < row.num_top_logprobs && n < vocab; ++n) {
    std::uint64_t k = 0;
    for (std::int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      const std::uint64_t key = sm::sort_key(w[i], static_cast<std::int32_t>(i));
      if (n == 0 || key < below) k = max(k, key);
    }
    below = block_max_key(k, s);
    if (threadIdx.x == 0) {
      const std::int32_t t = sm::key_index(below);
      top_ids[row.first_top + n] = t;
      top_logprobs[row.first_top + n] = static_cast<float>(static_cast<double>(w[t]) - lse);
    }
  }
}

std::size_t round8(std::size_t n) { return (n + 7) / 8 * 8; }

std::shared_ptr<void> device_alloc(std::size_t bytes) {
  void* p = nullptr;
  PS_CUDA_CHECK(cudaMalloc(&p, bytes));
  return std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
}

std::shared_ptr<void> pinned_alloc(std::size_t bytes) {
  void* p = nullptr;
  PS_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
  return std::shared_ptr<void>(p, [](void* q) { cudaFreeHost(q); });
}

}  // namespace

// Called between steps only: sample() has synchronized, nothing uses the
// old buffers.
void DeviceSampler::reserve(std::size_t in_bytes, std::size_t out_bytes, std::size_t work_bytes) {
  if (in_bytes > in_bytes_) {
    in_bytes_ = in_bytes * 2;
    device_in_ = device_alloc(in_bytes_);
    pinned_in_ = pinned_alloc(in_bytes_);
  }
  if (out_bytes > out_bytes_) {
    out_bytes_ = out_bytes * 2;
    device_out_ = device_alloc(out_bytes_);
    pinned_out_ = pinned_alloc(out_bytes_);
  }
  if (work_bytes > work_bytes_) {
    work_bytes_ = work_bytes;
    work_.reset();
    work_ = device_alloc(work_bytes_);
  }
}

void DeviceSampler::sample(const Tensor& logits, const SampleBatch& batch, SampleOutput& out, cudaStream_t stream) {
  out.resize(batch);
  const std::size_t num_rows = batch.rows.size();
  if (num_rows == 0) return;
  for (const auto& r : batch.rows)
    if (r.logits_row < 0 || r.logits_row >= logits.rows) throw std::out_of_range("sample: logits row out of range");
  const std::int64_t vocab = logits.cols;
  // In: rows, then penalty tokens. Out: token ids, logprobs, top ids, top logprobs.
  const std::size_t rows_bytes = round8(num_rows * sizeof(SampleRow));
  const std::size_t in_bytes = rows_bytes + round8(batch.penalties.size() * sizeof(PenaltyToken));
  const std::size_t ids_at = 0, lp_at = round8(num_rows * 4), top_ids_at = lp_at + round8(num_rows * 4),
                    top_lp_at = top_ids_at + round8(batch.num_top * 4), out_bytes = top_lp_at + round8(batch.num_top * 4);
  reserve(in_bytes, out_bytes, num_rows * static_cast<std::size_t>(vocab) * sizeof(float));

  auto* in = static_cast<std::byte*>(pinned_in_.get());
  std::memcpy(in, batch.rows.data(), num_rows * sizeof(SampleRow));
  if (!batch.penalties.empty())
    std::memcpy(in + rows_bytes, batch.penalties.data(), batch.penalties.size() * sizeof(PenaltyToken));
  PS_CUDA_CHECK(cudaMemcpyAsync(device_in_.get(), in, in_bytes, cudaMemcpyHostToDevice, stream));
  auto* d_in = static_cast<std::byte*>(device_in_.get());
  const auto* d_rows = reinterpret_cast<const SampleRow*>(d_in);
  const auto* d_penalties = reinterpret_cast<const PenaltyToken*>(d_in + rows_bytes);
  auto* d_out = static_cast<std::byte*>(device_out_.get());
  auto* w = static_cast<float*>(work_.get());

  const dim3 convert_grid(static_cast<unsigned>(std::min<std::int64_t>((vocab + 255) / 256, 64)), static_cast<unsigned>(num_rows));
  PS_DISPATCH_DTYPE(logits.dtype, [&] {
    to_work_kernel<scalar_t><<<convert_grid, 256, 0, stream>>>(static_cast<const scalar_t*>(logits.data), vocab, d_rows, w);
  });
  PS_CUDA_LAUNCH_CHECK();
  if (!batch.penalties.empty()) {
    penalize_kernel<<<static_cast<unsigned>(num_rows), 256, 0, stream>>>(vocab, d_rows, d_penalties, w);
    PS_CUDA_LAUNCH_CHECK();
  }
  sample_kernel<<<static_cast<unsigned>(num_rows), kThreads, 0, stream>>>(
      w, vocab, d_rows, reinterpret_cast<std::int32_t*>(d_out + ids_at), reinterpret_cast<float*>(d_out + lp_at),
      reinterpret_cast<std::int32_t*>(d_out + top_ids_at), reinterpret_cast<float*>(d_out + top_lp_at));
  PS_CUDA_LAUNCH_CHECK();
  PS_CUDA_CHECK(cudaMemcpyAsync(pinned_out_.get(), d_out, out_bytes, cudaMemcpyDeviceToHost, stream));
  PS_CUDA_CHECK(cudaStreamSynchronize(stream));

  const auto* host = static_cast<const std::byte*>(pinned_out_.get());
  std::memcpy(out.token_ids.data(), host + ids_at, num_rows * 4);
  std::memcpy(out.logprobs.data(), host + lp_at, num_rows * 4);
  for (std::uint32_t t = 0; t < batch.num_top; ++t) {
    std::memcpy(&out.top[t].token_id, host + top_ids_at + t * 4, 4);
    std::memcpy(&out.top[t].logprob, host + top_lp_at + t * 4, 4);
  }
}

}  // namespace pagedserve::kernels::cuda
