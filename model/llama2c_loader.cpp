#include "model/llama2c_loader.hpp"

#include <cstring>
#include <stdexcept>

#include "model/mapped_file.hpp"

namespace pagedserve::model {

namespace {

constexpr std::size_t kHeaderBytes = 7 * sizeof(std::int32_t);

ModelConfig parse_header(const std::string& path, const std::byte* data, std::size_t size, bool& shared_classifier) {
  if (size < kHeaderBytes)
    throw std::runtime_error(path + ": too small for a llama2.c checkpoint header (" + std::to_string(size) + " bytes)");
  std::int32_t h[7];
  std::memcpy(h, data, kHeaderBytes);
  ModelConfig c;
  c.name = "llama2c";
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.num_layers = h[2];
  c.num_heads = h[3];
  c.num_kv_heads = h[4];
  shared_classifier = h[5] > 0;
  c.vocab_size = h[5] < 0 ? -h[5] : h[5];
  c.max_seq_len = h[6];
  c.head_size = c.num_heads > 0 ? c.dim / c.num_heads : 0;
  c.rope_layout = kernels::RopeLayout::adjacent_pairs;
  c.norm_eps = 1e-5f;
  c.tied_embeddings = shared_classifier;
  c.bos_id = 1;
  // llama2.c's run.c ends a story when it samples BOS (1); EOS (2) ends it too.
  c.eos_ids = {1, 2};
  if (c.num_heads > 0 && c.dim % c.num_heads != 0)
    throw std::runtime_error(path + ": dim " + std::to_string(c.dim) + " is not a multiple of n_heads");
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": bad llama2.c header: " + e.what());
  }
  return c;
}

// Hands out consecutive fp32 tensors from the mapping.
struct TensorCursor {
  std::shared_ptr<const MappedFile> file;
  std::size_t offset = kHeaderBytes;

  HostTensor take(std::int64_t rows, std::int64_t cols) {
    HostTensor t;
    t.owner = file;
    t.data = file->data() + offset;
    t.rows = rows;
    t.cols = cols;
    offset += static_cast<std::size_t>(rows * cols) * sizeof(float);
    return t;
  }
  // Slice `layer` of a stacked [num_layers * rows, cols] tensor.
  static HostTensor layer_of(const HostTensor& stacked, int layer, std::int64_t rows) {
    HostTensor t = stacked;
    t.data = static_cast<const std::byte*>(stacked.data) + layer * rows * stacked.cols * sizeof(float);
    t.rows = rows;
    return t;
  }
};

std::size_t expected_floats(const ModelConfig& c, bool shared) {
  const std::size_t dim = c.dim, L = c.num_layers, hidden = c.hidden_dim;
  const std::size_t q = static_cast<std::size_t>(c.num_heads) * c.head_size;
  const std::size_t kv = static_cast<std::size_t>(c.num_kv_heads) * c.head_size;
  std::size_t n = static_cast<std::size_t>(c.vocab_size) * dim;  // token embedding
  n += L * dim * 2;                                               // rms_att, rms_ffn
  n += L * (q * dim + 2 * kv * dim + dim * q);                    // wq wk wv wo
  n += L * 3 * hidden * dim;                                      // w1 w2 w3
  n += dim;                                                       // rms_final
  n += static_cast<std::size_t>(c.max_seq_len) * c.head_size;     // two unused RoPE tables
  if (!shared) n += static_cast<std::size_t>(c.vocab_size) * dim;
  return n;
}

}  // namespace

Llama2cCheckpoint load_llama2c_checkpoint(const std::string& path) {
  auto file = MappedFile::open(path);
  bool shared = true;
  Llama2cCheckpoint ck;
  ck.config = parse_header(path, file->data(), file->size(), shared);
  const ModelConfig& c = ck.config;
  const std::size_t want = kHeaderBytes + expected_floats(c, shared) * sizeof(float);
  if (file->size() != want)
    throw std::runtime_error(path + ": size " + std::to_string(file->size()) + " bytes does not match its header, which implies " +
                             std::to_string(want) + " bytes (truncated or not a llama2.c checkpoint)");

  const std::int64_t dim = c.dim, L = c.num_layers, hidden = c.hidden_dim;
  const std::int64_t q = static_cast<std::int64_t>(c.num_heads) * c.head_size;
  const std::int64_t kv = static_cast<std::int64_t>(c.num_kv_heads) * c.head_size;
  TensorCursor cur{file};
  ModelWeights& w = ck.weights;
  w.token_embedding = cur.take(c.vocab_size, dim);
  HostTensor rms_att = cur.take(L, dim), wq = cur.take(L * q, dim), wk = cur.take(L * kv, dim),
             wv = cur.take(L * kv, dim), wo = cur.take(L * dim, q), rms_ffn = cur.take(L, dim),
             w1 = cur.take(L * hidden, dim), w2 = cur.take(L * dim, hidden), w3 = cur.take(L * hidden, dim);
  w.final_norm = cur.take(1, dim);
  cur.offset += static_cast<std::size_t>(c.max_seq_len) * c.head_size * sizeof(float);  // skip RoPE tables
  w.lm_head = shared ? w.token_embedding : cur.take(c.vocab_size, dim);
  for (int l = 0; l < L; ++l) {
    LayerWeights lw;
    lw.attn_norm = TensorCursor::layer_of(rms_att, l, 1);
    lw.wq = TensorCursor::layer_of(wq, l, q);
    lw.wk = TensorCursor::layer_of(wk, l, kv);
    lw.wv = TensorCursor::layer_of(wv, l, kv);
    lw.wo = TensorCursor::layer_of(wo, l, dim);
    lw.ffn_norm = TensorCursor::layer_of(rms_ffn, l, 1);
    lw.w_gate = TensorCursor::layer_of(w1, l, hidden);
    lw.w_down = TensorCursor::layer_of(w2, l, dim);
    lw.w_up = TensorCursor::layer_of(w3, l, hidden);
    w.layers.push_back(lw);
  }
  return ck;
}

}  // namespace pagedserve::model
