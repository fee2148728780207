#include "model/config.hpp"

#include <cmath>
#include <stdexcept>

namespace pagedserve::model {

namespace {
void require(bool ok, const std::string& field, const std::string& why) {
  if (!ok) throw std::invalid_argument("model config: " + field + " " + why);
}
}  // namespace

void ModelConfig::validate() const {
  require(dim > 0, "dim", "must be positive");
  require(hidden_dim > 0, "hidden_dim", "must be positive");
  require(num_layers > 0, "num_layers", "must be positive");
  require(num_heads > 0, "num_heads", "must be positive");
  require(num_kv_heads > 0 && num_heads % num_kv_heads == 0, "num_kv_heads",
          "must be positive and divide num_heads (" + std::to_string(num_heads) + ")");
  require(head_size > 0 && head_size % 2 == 0, "head_size", "must be positive and even (rotary pairs)");
  require(vocab_size > 0, "vocab_size", "must be positive");
  require(max_seq_len > 0, "max_seq_len", "must be positive");
  require(rope_theta > 0 && std::isfinite(rope_theta), "rope_theta", "must be a positive number");
  require(norm_eps > 0 && std::isfinite(norm_eps), "norm_eps", "must be a positive number");
  require(bos_id >= 0 && bos_id < vocab_size, "bos_id", "must be a token id");
  for (auto e : eos_ids) require(e >= 0 && e < vocab_size, "eos_ids", "must be token ids");
  require(sliding_window >= 0, "sliding_window", "must not be negative");
  if (rope_scaling.active())
    require(rope_scaling.factor > 0 && rope_scaling.low_freq_factor > 0 &&
                rope_scaling.high_freq_factor > rope_scaling.low_freq_factor && rope_scaling.original_max_positions > 0,
            "rope_scaling", "needs factor > 0 and 0 < low_freq_factor < high_freq_factor");
}

kernels::RopeParams ModelConfig::rope_params() const {
  return {num_heads, num_kv_heads, head_size, rope_theta, rope_layout, rope_scaling};
}

kernels::AttentionParams ModelConfig::attention_params() const {
  return {num_heads, num_kv_heads, head_size, 1.0f / std::sqrt(static_cast<float>(head_size))};
}

std::int64_t ModelConfig::num_parameters() const {
  const std::int64_t q = static_cast<std::int64_t>(num_heads) * head_size;
  const std::int64_t kv = static_cast<std::int64_t>(num_kv_heads) * head_size;
  std::int64_t per_layer = 2LL * dim + q * dim + 2 * kv * dim + dim * q + 3LL * hidden_dim * dim;
  if (qkv_bias) per_layer += q + 2 * kv;
  if (qk_norm) per_layer += 2LL * head_size;
  const std::int64_t embed = static_cast<std::int64_t>(vocab_size) * dim;
  return embed + num_layers * per_layer + dim + (tied_embeddings ? 0 : embed);
}

namespace {
ModelConfig shape(const char* name, int dim, int hidden, int layers, int heads, int kv_heads, int vocab, int seq) {
  ModelConfig c;
  c.name = name;
  c.dim = dim;
  c.hidden_dim = hidden;
  c.num_layers = layers;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_size = dim / heads;
  c.vocab_size = vocab;
  c.max_seq_len = seq;
  return c;
}
}  // namespace

ModelConfig preset_config(const std::string& name) {
  if (name == "stories260K") {
    auto c = shape("stories260K", 64, 172, 5, 8, 4, 512, 512);
    c.eos_ids = {1, 2};
    return c;
  }
  if (name == "stories15M") return shape("stories15M", 288, 768, 6, 6, 6, 32000, 256);
  if (name == "stories110M") return shape("stories110M", 768, 2048, 12, 12, 12, 32000, 1024);
  ModelConfig c;
  if (name == "llama2-7b") {
    c = shape("llama2-7b", 4096, 11008, 32, 32, 32, 32000, 4096);
  } else if (name == "tinyllama-1.1b") {
    c = shape("tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048);
  } else if (name == "llama3-8b") {
    c = shape("llama3-8b", 4096, 14336, 32, 32, 8, 128256, 8192);
    c.rope_theta = 500000.0f;
    c.bos_id = 128000;
    c.eos_ids = {128001, 128009};
  } else {
    throw std::invalid_argument("unknown model preset '" + name +
                                "' (known: stories260K, stories15M, stories110M, llama2-7b, tinyllama-1.1b, llama3-8b)");
  }
  c.rope_layout = kernels::RopeLayout::rotate_halves;
  c.tied_embeddings = false;
  return c;
}

}  // namespace pagedserve::model
