// Embedding, RMSNorm, rotary embedding (frequencies: kernels/rope.hpp), SiLU-and-multiply, residual add,
// row gathering and conversion to fp32. One thread block per row where a row
// needs a reduction; grid-stride loops elsewhere.

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/cuda/cuda_types.cuh"

namespace pagedserve::kernels::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(std::int64_t n) { return static_cast<int>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 65535)); }

template <typename T>
__global__ void embedding_kernel(const T* __restrict__ table,  // [vocab, dim]
                                 const std::int32_t* __restrict__ ids,  // [n]
                                 T* __restrict__ out,  // [n, dim]
                                 int dim) {
  const std::int64_t row = blockIdx.x;
  const std::int64_t id = ids[row];
  for (int d = threadIdx.x; d < dim; d += blockDim.x) out[row * dim + d] = table[id * dim + d];
}

template <typename T>
__global__ void embedding_rows_kernel(const T* __restrict__ table,  // [rows, dim]: ids [first, first + rows)
                                      const std::int32_t* __restrict__ ids,  // [n]
                                      T* __restrict__ out,  // [n, dim]
                                      int dim, std::int32_t first, std::int64_t rows) {
  const std::int64_t row = blockIdx.x;
  const std::int64_t local = static_cast<std::int64_t>(ids[row]) - first;
  const bool mine = local >= 0 && local < rows;
  for (int d = threadIdx.x; d < dim; d += blockDim.x)
    out[row * dim + d] = mine ? table[local * dim + d] : from_float<T>(0.0f);
}

template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x,  // [rows, dim]
                                const T* __restrict__ w,  // [dim]
                                T* __restrict__ out,      // [rows, dim], may alias x
                                int dim, float eps) {
  __shared__ float scratch[32];
  const std::int64_t row = blockIdx.x;
  float ss = 0.0f;
  for (int d = threadIdx.x; d < dim; d += blockDim.x) {
    const float v = to_float(x[row * dim + d]);
    ss += v * v;
  }
  ss = block_reduce<false>(ss, scratch);
  const float inv = rsqrtf(ss / dim + eps);
  for (int d = threadIdx.x; d < dim; d += blockDim.x)
    out[row * dim + d] = from_float<T>(to_float(w[d]) * (to_float(x[row * dim + d]) * inv));
}

// One block per token; threads walk (head, pair) of q then k.
template <typename T>
__global__ void rotary_kernel(T* __restrict__ q,  // [n, heads*hs]
                              T* __restrict__ k,  // [n, kv_heads*hs]
                              const std::int32_t* __restrict__ positions,  // [n]
                              int heads, int kv_heads, int hs, float theta, bool adjacent_pairs,
                              RopeScaling scaling) {
  const std::int64_t t = blockIdx.x;
  const float pos = static_cast<float>(positions[t]);
  const int half = hs / 2;
  const int total = (heads + kv_heads) * half;
  for (int i = threadIdx.x; i < total; i += blockDim.x) {
    const int head = i / half, pair = i % half;
    T* base = head < heads ? q + (t * heads + head) * hs : k + (t * kv_heads + (head - heads)) * hs;
    const float freq = scaled_inv_freq(powf(theta, -2.0f * pair / hs), scaling);
    float s, c;
    sincosf(pos * freq, &s, &c);
    T* a = adjacent_pairs ? base + 2 * pair : base + pair;
    T* b = adjacent_pairs ? base + 2 * pair + 1 : base + pair + half;
    const float v0 = to_float(*a), v1 = to_float(*b);
    *a = from_float<T>(v0 * c - v1 * s);
    *b = from_float<T>(v0 * s + v1 * c);
  }
}

template <typename T>
__global__ void silu_mul_kernel(const T* __restrict__ gate, const T* __restrict__ up, T* __restrict__ out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float g = to_float(gate[i]);
    out[i] = from_float<T>(g / (1.0f + __expf(-g)) * to_float(up[i]));
  }
}

template <typename T>
__global__ void add_kernel(T* __restrict__ x, const T* __restrict__ y, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    x[i] = from_float<T>(to_float(x[i]) + to_float(y[i]));
}

template <typename T>
__global__ void gather_rows_kernel(const T* __restrict__ x,  // [n, cols]
                                   const std::int32_t* __restrict__ rows,  // [m]
                                   T* __restrict__ out,  // [m, cols]
                                   int cols) {
  const std::int64_t r = blockIdx.x, src = rows[r];
  for (int c = threadIdx.x; c < cols; c += blockDim.x) out[r * cols + c] = x[src * cols + c];
}

template <typename T>
__global__ void to_f32_kernel(const T* __restrict__ src, float* __restrict__ dst, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = to_float(src[i]);
}

// x[row] += residual[row] (stored, rounded to T), then the RMS norm of the
// stored values: the same numbers as add then rms_norm, in one pass.
template <typename T>
__global__ void add_rms_norm_kernel(T* __restrict__ x, const T* __restrict__ residual, const T* __restrict__ w,
                                    T* __restrict__ out, int dim, float eps) {
  __shared__ float scratch[32];
  const std::int64_t row = blockIdx.x;
  float ss = 0.0f;
  for (int d = threadIdx.x; d < dim; d += blockDim.x) {
    const T sum = from_float<T>(to_float(x[row * dim + d]) + to_float(residual[row * dim + d]));
    x[row * dim + d] = sum;
    const float v = to_float(sum);
    ss += v * v;
  }
  ss = block_reduce<false>(ss, scratch);  // its barriers also order x's writes before the reads below
  const float inv = rsqrtf(ss / dim + eps);
  for (int d = threadIdx.x; d < dim; d += blockDim.x)
    out[row * dim + d] = from_float<T>(to_float(w[d]) * (to_float(x[row * dim + d]) * inv));
}

// One block per token: q and k pairs rotated out of the merged row, v copied.
template <typename T>
__global__ void split_qkv_rotary_kernel(const T* __restrict__ qkv, T* __restrict__ q, T* __restrict__ k,
                                        T* __restrict__ v, const std::int32_t* __restrict__ positions, int heads,
                                        int kv_heads, int hs, float theta, bool adjacent_pairs,
                                        RopeScaling scaling) {
  const std::int64_t t = blockIdx.x;
  const int qw = heads * hs, kw = kv_heads * hs, row_width = qw + 2 * kw;
  const T* row = qkv + t * row_width;
  const float pos = static_cast<float>(positions[t]);
  const int half = hs / 2;
  for (int i = threadIdx.x; i < (heads + kv_heads) * half; i += blockDim.x) {
    const int head = i / half, pair = i % half;
    const T* src = row + head * hs;  // q heads then k heads, side by side
    T* dst = head < heads ? q + t * qw + head * hs : k + t * kw + (head - heads) * hs;
    const int a = adjacent_pairs ? 2 * pair : pair, b = adjacent_pairs ? 2 * pair + 1 : pair + half;
    float sn, cs;
    sincosf(pos * scaled_inv_freq(powf(theta, -2.0f * pair / hs), scaling), &sn, &cs);
    const float v0 = to_float(src[a]), v1 = to_float(src[b]);
    dst[a] = from_float<T>(v0 * cs - v1 * sn);
    dst[b] = from_float<T>(v0 * sn + v1 * cs);
  }
  for (int i = threadIdx.x; i < kw; i += blockDim.x) v[t * kw + i] = row[qw + kw + i];
}

template <typename T>
__global__ void silu_mul_halves_kernel(const T* __restrict__ gate_up, T* __restrict__ out, std::int64_t rows, int h) {
  const std::int64_t n = rows * h;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / h, c = i % h;
    const float g = to_float(gate_up[r * 2 * h + c]);
    out[i] = from_float<T>(g / (1.0f + __expf(-g)) * to_float(gate_up[r * 2 * h + h + c]));
  }
}

template <typename From, typename To>
__global__ void convert_kernel(const From* __restrict__ src, To* __restrict__ dst, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = from_float<To>(to_float(src[i]));
}

template <typename T>
__global__ void synthetic_fill_kernel(SyntheticFill fill, T* __restrict__ dst, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = from_float<T>(synthetic_value(fill, static_cast<std::uint64_t>(i)));
}

}  // namespace

void launch_embedding(const Tensor& table, const DeviceBatch& b, Tensor out, cudaStream_t s) {
  if (b.num_tokens == 0) return;
  PS_DISPATCH_DTYPE(out.dtype, [&] {
    embedding_kernel<scalar_t><<<b.num_tokens, kThreads, 0, s>>>(static_cast<const scalar_t*>(table.data), b.token_ids,
                                                                 static_cast<scalar_t*>(out.data), static_cast<int>(out.cols));
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_embedding_rows(const Tensor& table, std::int32_t first_id, const DeviceBatch& b, Tensor out, cudaStream_t s) {
  if (b.num_tokens == 0) return;
  if (table.dtype != out.dtype || table.cols != out.cols)
    throw std::invalid_argument("embedding_rows: the table and the output differ in type or width");
  PS_DISPATCH_DTYPE(out.dtype, [&] {
    embedding_rows_kernel<scalar_t><<<b.num_tokens, kThreads, 0, s>>>(
        static_cast<const scalar_t*>(table.data), b.token_ids, static_cast<scalar_t*>(out.data),
        static_cast<int>(out.cols), first_id, table.rows);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out, cudaStream_t s) {
  if (x.rows == 0) return;
  PS_DISPATCH_DTYPE(x.dtype, [&] {
    rms_norm_kernel<scalar_t><<<static_cast<unsigned>(x.rows), kThreads, 0, s>>>(
        static_cast<const scalar_t*>(x.data), static_cast<const scalar_t*>(weight.data), static_cast<scalar_t*>(out.data),
        static_cast<int>(x.cols), eps);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_rotary(Tensor q, Tensor k, const DeviceBatch& b, const RopeParams& p, cudaStream_t s) {
  if (q.rows == 0) return;
  PS_DISPATCH_DTYPE(q.dtype, [&] {
    rotary_kernel<scalar_t><<<static_cast<unsigned>(q.rows), 128, 0, s>>>(
        static_cast<scalar_t*>(q.data), static_cast<scalar_t*>(k.data), b.positions, p.num_heads, p.num_kv_heads,
        p.head_size, p.theta, p.layout == RopeLayout::adjacent_pairs, p.scaling);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_silu_mul(const Tensor& gate, const Tensor& up, Tensor out, cudaStream_t s) {
  if (gate.numel() == 0) return;
  PS_DISPATCH_DTYPE(gate.dtype, [&] {
    silu_mul_kernel<scalar_t><<<grid_for(gate.numel()), kThreads, 0, s>>>(
        static_cast<const scalar_t*>(gate.data), static_cast<const scalar_t*>(up.data), static_cast<scalar_t*>(out.data),
        gate.numel());
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_add(Tensor x, const Tensor& y, cudaStream_t s) {
  if (x.numel() == 0) return;
  PS_DISPATCH_DTYPE(x.dtype, [&] {
    add_kernel<scalar_t><<<grid_for(x.numel()), kThreads, 0, s>>>(static_cast<scalar_t*>(x.data),
                                                                  static_cast<const scalar_t*>(y.data), x.numel());
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_gather_rows(const Tensor& x, const DeviceBatch& b, Tensor out, cudaStream_t s) {
  if (b.num_logits_rows == 0) return;
  PS_DISPATCH_DTYPE(x.dtype, [&] {
    gather_rows_kernel<scalar_t><<<b.num_logits_rows, kThreads, 0, s>>>(
        static_cast<const scalar_t*>(x.data), b.logits_rows, static_cast<scalar_t*>(out.data), static_cast<int>(x.cols));
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_to_f32(const void* src, DType from, float* dst, std::int64_t n, cudaStream_t s) {
  if (n == 0) return;
  PS_DISPATCH_DTYPE(from, [&] {
    to_f32_kernel<scalar_t><<<grid_for(n), kThreads, 0, s>>>(static_cast<const scalar_t*>(src), dst, n);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_add_rms_norm(Tensor x, const Tensor& residual, const Tensor& weight, float eps, Tensor out, cudaStream_t s) {
  if (x.rows == 0) return;
  PS_DISPATCH_DTYPE(x.dtype, [&] {
    add_rms_norm_kernel<scalar_t><<<static_cast<unsigned>(x.rows), kThreads, 0, s>>>(
        static_cast<scalar_t*>(x.data), static_cast<const scalar_t*>(residual.data),
        static_cast<const scalar_t*>(weight.data), static_cast<scalar_t*>(out.data), static_cast<int>(x.cols), eps);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const DeviceBatch& b, const RopeParams& p,
                             cudaStream_t s) {
  if (qkv.rows == 0) return;
  PS_DISPATCH_DTYPE(qkv.dtype, [&] {
    split_qkv_rotary_kernel<scalar_t><<<static_cast<unsigned>(qkv.rows), 128, 0, s>>>(
        static_cast<const scalar_t*>(qkv.data), static_cast<scalar_t*>(q.data), static_cast<scalar_t*>(k.data),
        static_cast<scalar_t*>(v.data), b.positions, p.num_heads, p.num_kv_heads, p.head_size, p.theta,
        p.layout == RopeLayout::adjacent_pairs, p.scaling);
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_silu_mul_halves(const Tensor& gate_up, Tensor out, cudaStream_t s) {
  if (out.numel() == 0) return;
  PS_DISPATCH_DTYPE(out.dtype, [&] {
    silu_mul_halves_kernel<scalar_t><<<grid_for(out.numel()), kThreads, 0, s>>>(
        static_cast<const scalar_t*>(gate_up.data), static_cast<scalar_t*>(out.data), out.rows, static_cast<int>(out.cols));
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_convert(const void* src, DType from, void* dst, DType to, std::int64_t n, cudaStream_t s) {
  if (n == 0) return;
  PS_DISPATCH_DTYPE(from, [&] {
    using from_t = scalar_t;
    PS_DISPATCH_DTYPE(to, [&] {
      convert_kernel<from_t, scalar_t><<<grid_for(n), kThreads, 0, s>>>(static_cast<const from_t*>(src),
                                                                       static_cast<scalar_t*>(dst), n);
    });
  });
  PS_CUDA_LAUNCH_CHECK();
}

void launch_synthetic_fill(const SyntheticFill& fill, void* dst, DType to, std::int64_t n, cudaStream_t s) {
  if (n == 0) return;
  PS_DISPATCH_DTYPE(to, [&] {
    synthetic_fill_kernel<scalar_t><<<grid_for(n), kThreads, 0, s>>>(fill, static_cast<scalar_t*>(dst), n);
  });
  PS_CUDA_LAUNCH_CHECK();
}

}  // namespace pagedserve::kernels::cuda
