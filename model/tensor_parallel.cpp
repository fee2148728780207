#include "model/tensor_parallel.hpp"

#include <cstring>
#include <stdexcept>

namespace pagedserve::model {

namespace {

void require_host_data(const HostTensor& t) {
  if (t.synthetic) throw std::invalid_argument("dummy weights cannot be split across tensor-parallel ranks: use a checkpoint");
}

// Rows [first, first + count): a view of the same data.
HostTensor row_slice(const HostTensor& t, std::int64_t first, std::int64_t count) {
  if (t.empty()) return t;
  require_host_data(t);
  HostTensor s = t;
  s.data = static_cast<const std::byte*>(t.data) + first * t.cols * static_cast<std::int64_t>(kernels::dtype_size(t.dtype));
  s.rows = count;
  return s;
}

// Columns [first, first + count): a copy, since they are not contiguous.
HostTensor column_slice(const HostTensor& t, std::int64_t first, std::int64_t count) {
  require_host_data(t);
  const std::size_t elem = kernels::dtype_size(t.dtype);
  auto buffer = std::shared_ptr<std::byte[]>(new std::byte[static_cast<std::size_t>(t.rows * count) * elem]);
  for (std::int64_t r = 0; r < t.rows; ++r)
    std::memcpy(buffer.get() + static_cast<std::size_t>(r * count) * elem,
                static_cast<const std::byte*>(t.data) + static_cast<std::size_t>(r * t.cols + first) * elem,
                static_cast<std::size_t>(count) * elem);
  HostTensor s = t;
  s.owner = buffer;
  s.data = buffer.get();
  s.cols = count;
  return s;
}

// A [1, n] bias sliced like the rows of its projection.
HostTensor vector_slice(const HostTensor& t, std::int64_t first, std::int64_t count) {
  if (t.empty()) return t;
  return column_slice(t, first, count);
}

}  // namespace

std::string tensor_parallel_refusal(const ModelConfig& config, int world) {
  if (world < 1) return "the tensor-parallel size must be at least 1";
  auto divides = [&](int n, const char* what) {
    return n % world == 0 ? std::string()
                          : std::string(what) + " (" + std::to_string(n) + ") is not divisible by the tensor-parallel size " +
                                std::to_string(world);
  };
  for (auto reason : {divides(config.num_kv_heads, "the number of KV heads"), divides(config.num_heads, "the number of heads"),
                      divides(config.hidden_dim, "the FFN width")})
    if (!reason.empty()) return reason;
  return "";
}

ModelConfig shard_config(const ModelConfig& config, int rank, int world) {
  if (auto reason = tensor_parallel_refusal(config, world); !reason.empty()) throw std::invalid_argument(reason);
  if (rank < 0 || rank >= world) throw std::invalid_argument("rank out of range");
  ModelConfig c = config;
  c.num_heads /= world;
  c.num_kv_heads /= world;
  c.hidden_dim /= world;
  return c;
}

ModelWeights shard_weights(const ModelConfig& config, const ModelWeights& weights, int rank, int world) {
  const ModelConfig local = shard_config(config, rank, world);
  const std::int64_t q = static_cast<std::int64_t>(local.num_heads) * local.head_size;
  const std::int64_t kv = static_cast<std::int64_t>(local.num_kv_heads) * local.head_size;
  const std::int64_t ffn = local.hidden_dim;
  ModelWeights out = weights;
  for (auto& l : out.layers) {
    l.wq = row_slice(l.wq, rank * q, q);
    l.wk = row_slice(l.wk, rank * kv, kv);
    l.wv = row_slice(l.wv, rank * kv, kv);
    l.bq = vector_slice(l.bq, rank * q, q);
    l.bk = vector_slice(l.bk, rank * kv, kv);
    l.bv = vector_slice(l.bv, rank * kv, kv);
    l.wo = column_slice(l.wo, rank * q, q);
    l.w_gate = row_slice(l.w_gate, rank * ffn, ffn);
    l.w_up = row_slice(l.w_up, rank * ffn, ffn);
    l.w_down = column_slice(l.w_down, rank * ffn, ffn);
  }
  return out;
}

}  // namespace pagedserve::model
