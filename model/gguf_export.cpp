#include "model/gguf_export.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/synthetic.hpp"

namespace pagedserve::model {

namespace {

// A host tensor's values as floats; synthetic (dummy) tensors are generated
// exactly as the backends generate them.
std::vector<float> to_floats(const HostTensor& t) {
  std::vector<float> out(static_cast<std::size_t>(t.rows * t.cols));
  if (t.synthetic) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = kernels::synthetic_value(*t.synthetic, i);
  } else {
    if (!t.data) throw std::invalid_argument("a tensor has no data");
    kernels::convert_to_f32(t.data, t.dtype, out.data(), out.size());
  }
  return out;
}

// Reorders the rows of each head between the two rotary layouts:
// rotate-halves row j*hs/2 + i is adjacent-pairs row 2i + j.
std::vector<float> reorder_rotary_rows(const std::vector<float>& in, std::int64_t cols, int heads, int hs,
                                       kernels::RopeLayout to) {
  std::vector<float> out(in.size());
  const auto bytes = static_cast<std::size_t>(cols) * sizeof(float);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < hs / 2; ++i)
      for (int j = 0; j < 2; ++j) {
        const std::int64_t pairs = h * hs + 2 * i + j, halves = h * hs + j * hs / 2 + i;
        const bool to_pairs = to == kernels::RopeLayout::adjacent_pairs;
        std::memcpy(&out[(to_pairs ? pairs : halves) * cols], &in[(to_pairs ? halves : pairs) * cols], bytes);
      }
  return out;
}

class TensorSink {
 public:
  TensorSink(GgufWriter& w, const ModelConfig& c, GgufTensorType matrix_type)
      : w_(w), c_(c), matrix_type_(matrix_type), layout_(gguf_rope_layout(gguf_architecture(c))) {}

  void add(const std::string& name, const HostTensor& t) {
    if (t.empty()) return;
    const auto type = t.rows == 1 ? GgufTensorType::f32 : matrix_type_;  // llama.cpp keeps vectors in f32
    w_.add_tensor(name, t.rows, t.cols, type, [&t] { return to_floats(t); });
  }
  // q or k (weight [heads*hs, dim] or bias [1, heads*hs]) in llama.cpp's rotary layout.
  void add_rotary(const std::string& name, const HostTensor& t, int heads) {
    if (t.empty()) return;
    if (c_.rope_layout == layout_) return add(name, t);
    const std::int64_t cols = t.rows == 1 ? 1 : t.cols;
    const auto type = t.rows == 1 ? GgufTensorType::f32 : matrix_type_;
    w_.add_tensor(name, t.rows, t.cols, type, [&t, cols, heads, hs = c_.head_size, to = layout_] {
      return reorder_rotary_rows(to_floats(t), cols, heads, hs, to);
    });
  }

 private:
  GgufWriter& w_;
  const ModelConfig& c_;
  GgufTensorType matrix_type_;
  kernels::RopeLayout layout_;
};

void add_tensors(GgufWriter& w, const ModelConfig& c, const ModelWeights& m, GgufTensorType matrix_type) {
  TensorSink sink(w, c, matrix_type);
  sink.add("token_embd.weight", m.token_embedding);
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const auto& L = m.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    sink.add(p + "attn_norm.weight", L.attn_norm);
    sink.add_rotary(p + "attn_q.weight", L.wq, c.num_heads);
    sink.add_rotary(p + "attn_k.weight", L.wk, c.num_kv_heads);
    sink.add(p + "attn_v.weight", L.wv);
    sink.add_rotary(p + "attn_q.bias", L.bq, c.num_heads);
    sink.add_rotary(p + "attn_k.bias", L.bk, c.num_kv_heads);
    sink.add(p + "attn_v.bias", L.bv);
    sink.add(p + "attn_q_norm.weight", L.q_norm);
    sink.add(p + "attn_k_norm.weight", L.k_norm);
    sink.add(p + "attn_output.weight", L.wo);
    sink.add(p + "ffn_norm.weight", L.ffn_norm);
    sink.add(p + "ffn_gate.weight", L.w_gate);
    sink.add(p + "ffn_up.weight", L.w_up);
    sink.add(p + "ffn_down.weight", L.w_down);
  }
  sink.add("output_norm.weight", m.final_norm);
  if (!c.tied_embeddings && !m.lm_head.same_as(m.token_embedding)) sink.add("output.weight", m.lm_head);
}

void add_hyperparameters(GgufWriter& w, const ModelConfig& c, const std::string& arch) {
  w.add_u32(arch + ".context_length", static_cast<std::uint32_t>(c.max_seq_len));
  w.add_u32(arch + ".embedding_length", static_cast<std::uint32_t>(c.dim));
  w.add_u32(arch + ".block_count", static_cast<std::uint32_t>(c.num_layers));
  w.add_u32(arch + ".feed_forward_length", static_cast<std::uint32_t>(c.hidden_dim));
  w.add_u32(arch + ".attention.head_count", static_cast<std::uint32_t>(c.num_heads));
  w.add_u32(arch + ".attention.head_count_kv", static_cast<std::uint32_t>(c.num_kv_heads));
  w.add_f32(arch + ".attention.layer_norm_rms_epsilon", c.norm_eps);
  w.add_u32(arch + ".attention.key_length", static_cast<std::uint32_t>(c.head_size));
  w.add_u32(arch + ".attention.value_length", static_cast<std::uint32_t>(c.head_size));
  w.add_u32(arch + ".rope.dimension_count", static_cast<std::uint32_t>(c.head_size));
  w.add_f32(arch + ".rope.freq_base", c.rope_theta);
  w.add_u32(arch + ".vocab_size", static_cast<std::uint32_t>(c.vocab_size));
}

}  // namespace

std::string gguf_architecture(const ModelConfig& c) {
  if (c.architecture == "LlamaForCausalLM" || c.architecture == "MistralForCausalLM") {
    // llama.cpp's "llama" has no window: equal only while the context fits in it.
    if (c.sliding_window > 0 && c.max_seq_len > c.sliding_window)
      throw std::invalid_argument("a sliding attention window shorter than the context has no GGUF \"llama\" form");
    if (c.qkv_bias || c.qk_norm) throw std::invalid_argument(c.architecture + " with q/k biases or norms has no GGUF \"llama\" form");
    return "llama";
  }
  if (c.architecture == "Qwen2ForCausalLM") return "qwen2";
  if (c.architecture == "Qwen3ForCausalLM") return "qwen3";
  throw std::invalid_argument("architecture " + c.architecture + " has no GGUF export");
}

kernels::RopeLayout gguf_rope_layout(const std::string& architecture) {
  return architecture == "llama" ? kernels::RopeLayout::adjacent_pairs : kernels::RopeLayout::rotate_halves;
}

std::vector<float> llama3_rope_factors(const ModelConfig& c) {
  // The converter's arithmetic: torch float32 throughout.
  const auto& s = c.rope_scaling;
  const float low_wavelen = s.original_max_positions / s.low_freq_factor;
  const float high_wavelen = s.original_max_positions / s.high_freq_factor;
  std::vector<float> factors;
  for (int i = 0; i < c.head_size / 2; ++i) {
    const float freq = 1.0f / std::pow(c.rope_theta, static_cast<float>(2 * i) / static_cast<float>(c.head_size));
    const float wavelen = static_cast<float>(2 * M_PI) / freq;
    if (wavelen < high_wavelen) factors.push_back(1.0f);
    else if (wavelen > low_wavelen) factors.push_back(s.factor);
    else {
      const float smooth = (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      factors.push_back(1.0f / ((1.0f - smooth) / s.factor + smooth));
    }
  }
  return factors;
}

void export_gguf(const ModelConfig& c, const ModelWeights& weights, const GgufVocab& vocab, const std::string& path,
                 GgufTensorType matrix_type) {
  c.validate();
  const auto arch = gguf_architecture(c);
  GgufVocab padded = vocab;
  padded.pad_to(c.vocab_size);
  GgufWriter w;
  w.add_string("general.architecture", arch);
  w.add_string("general.name", c.name);
  w.add_u32("general.file_type", matrix_type == GgufTensorType::f32 ? 0 : 1);
  add_hyperparameters(w, c, arch);
  padded.write_to(w);
  add_tensors(w, c, weights, matrix_type);
  const auto factors = c.rope_scaling.active() ? llama3_rope_factors(c) : std::vector<float>{};
  if (!factors.empty())
    w.add_tensor("rope_freqs.weight", 1, static_cast<std::int64_t>(factors.size()), GgufTensorType::f32,
                 [factors] { return factors; });
  w.write(path);
}

}  // namespace pagedserve::model
