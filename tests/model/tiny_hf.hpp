#pragma once
// Tiny random-weight checkpoints of each supported architecture, written as
// Hugging Face directories (config.json + model.safetensors) the way
// transformers saves them, and a plain double-precision forward pass over
// the same numbers that the tests use as an independent reference.

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "hf_export.hpp"

namespace pagedserve::testing {

struct TinySpec {
  std::string architecture = "LlamaForCausalLM";
  int dim = 32, hidden = 48, layers = 2, heads = 4, kv_heads = 2, head_dim = 8, vocab = 64, max_positions = 256;
  bool write_head_dim = false;  // head_dim in config.json (needed when != dim / heads)
  bool tied = false;
  bool qkv_bias = false;        // Qwen2
  bool qk_norm = false;         // Qwen3
  bool llama3_rope = false;     // rope_scaling "llama3", scaled so every band occurs at head_dim 16
  double rope_theta = 10000.0;
  double norm_eps = 1e-6;
  int sliding_window = 0;       // Mistral (0: null)
  std::string hidden_act = "silu";
  std::string extra_config;     // more config.json fields, e.g. ",\"quantization_config\":{...}"
  unsigned seed = 7;
  // Llama 3 scaling, as config.json says it.
  double factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 64.0;
};

inline TinySpec tiny_llama3() {
  TinySpec s;
  s.head_dim = 16;
  s.heads = 2;
  s.kv_heads = 1;
  s.llama3_rope = true;
  s.rope_theta = 10000.0;
  return s;
}
inline TinySpec tiny_qwen2() {
  TinySpec s;
  s.architecture = "Qwen2ForCausalLM";
  s.qkv_bias = true;
  s.tied = true;
  s.rope_theta = 1000000.0;
  return s;
}
inline TinySpec tiny_qwen3() {
  TinySpec s;
  s.architecture = "Qwen3ForCausalLM";
  s.qk_norm = true;
  s.head_dim = 16;  // explicit, not dim / heads = 8
  s.write_head_dim = true;
  s.tied = true;
  return s;
}
inline TinySpec tiny_mistral() {
  TinySpec s;
  s.architecture = "MistralForCausalLM";
  s.sliding_window = 48;
  return s;
}

// The checkpoint's tensors by Hugging Face name, as floats, with shapes.
struct TinyCheckpoint {
  TinySpec spec;
  std::map<std::string, std::vector<float>> tensors;
  std::map<std::string, std::vector<std::int64_t>> shapes;
  const std::vector<float>& at(const std::string& name) const { return tensors.at(name); }
};

inline TinyCheckpoint make_tiny_checkpoint(const TinySpec& s) {
  TinyCheckpoint ck{s, {}, {}};
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto put = [&](const std::string& name, std::vector<std::int64_t> shape, float scale, float offset) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = offset + scale * u(rng);
    ck.tensors[name] = std::move(v);
    ck.shapes[name] = std::move(shape);
  };
  const std::int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  auto matrix = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
    put(name, {rows, cols}, static_cast<float>(1.5 / std::sqrt(static_cast<double>(cols))), 0.0f);
  };
  put("model.embed_tokens.weight", {s.vocab, s.dim}, 1.0f, 0.0f);
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    put(p + "input_layernorm.weight", {s.dim}, 0.2f, 1.0f);
    put(p + "post_attention_layernorm.weight", {s.dim}, 0.2f, 1.0f);
    matrix(p + "self_attn.q_proj.weight", q, s.dim);
    matrix(p + "self_attn.k_proj.weight", kv, s.dim);
    matrix(p + "self_attn.v_proj.weight", kv, s.dim);
    matrix(p + "self_attn.o_proj.weight", s.dim, q);
    matrix(p + "mlp.gate_proj.weight", s.hidden, s.dim);
    matrix(p + "mlp.up_proj.weight", s.hidden, s.dim);
    matrix(p + "mlp.down_proj.weight", s.dim, s.hidden);
    if (s.qkv_bias) {
      put(p + "self_attn.q_proj.bias", {q}, 0.8f, 0.0f);
      put(p + "self_attn.k_proj.bias", {kv}, 0.8f, 0.0f);
      put(p + "self_attn.v_proj.bias", {kv}, 0.8f, 0.0f);
    }
    if (s.qk_norm) {
      put(p + "self_attn.q_norm.weight", {s.head_dim}, 0.5f, 1.0f);
      put(p + "self_attn.k_norm.weight", {s.head_dim}, 0.5f, 1.0f);
    }
  }
  put("model.norm.weight", {s.dim}, 0.2f, 1.0f);
  if (!s.tied) matrix("lm_head.weight", s.vocab, s.dim);
  return ck;
}

inline std::string tiny_config_json(const TinySpec& s) {
  std::ostringstream j;
  j.precision(17);
  j << "{\"architectures\":[\"" << s.architecture << "\"],\"hidden_size\":" << s.dim
    << ",\"intermediate_size\":" << s.hidden << ",\"num_hidden_layers\":" << s.layers
    << ",\"num_attention_heads\":" << s.heads << ",\"num_key_value_heads\":" << s.kv_heads
    << ",\"vocab_size\":" << s.vocab << ",\"max_position_embeddings\":" << s.max_positions
    << ",\"rms_norm_eps\":" << s.norm_eps << ",\"rope_theta\":" << s.rope_theta << ",\"hidden_act\":\"" << s.hidden_act << "\""
    << ",\"tie_word_embeddings\":" << (s.tied ? "true" : "false") << ",\"bos_token_id\":1,\"eos_token_id\":2"
    << ",\"torch_dtype\":\"float32\"";
  if (s.write_head_dim) j << ",\"head_dim\":" << s.head_dim;
  if (s.llama3_rope)
    j << ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":" << s.factor << ",\"low_freq_factor\":"
      << s.low_freq_factor << ",\"high_freq_factor\":" << s.high_freq_factor
      << ",\"original_max_position_embeddings\":" << s.original_max_positions << "}";
  else
    j << ",\"rope_scaling\":null";
  if (s.architecture == "MistralForCausalLM")
    j << ",\"sliding_window\":" << (s.sliding_window > 0 ? std::to_string(s.sliding_window) : "null");
  if (s.architecture.rfind("Qwen", 0) == 0) j << ",\"use_sliding_window\":false,\"sliding_window\":4096";
  if (s.architecture == "Qwen3ForCausalLM") j << ",\"attention_bias\":false";
  j << s.extra_config << "}";
  return j.str();
}

// Writes config.json and model.safetensors (F32) for `ck` into `dir`.
inline void write_tiny_hf(const TinyCheckpoint& ck, const std::string& dir) {
  std::map<std::string, TensorToWrite> out;
  for (const auto& [name, v] : ck.tensors) out[name] = {"F32", ck.shapes.at(name), to_bytes(v, "F32")};
  write_safetensors(dir + "/model.safetensors", out);
  std::ofstream(dir + "/config.json") << tiny_config_json(ck.spec);
}

// A SentencePiece-style BPE over the tiny models' 64 ids: <unk>, <s>, </s>,
// the added token <|im_end|>, the space mark, then letters and digits. `post_processor`
// is the JSON of tokenizer.json's post_processor (or null).
inline std::string tiny_tokenizer_json(const std::string& post_processor = "null") {
  std::string vocab = R"("<unk>":0,"<s>":1,"</s>":2,"<|im_end|>":3,"\u2581":4)";
  // a..z, A..Z, 0..6: every id of the model has a piece.
  const std::string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456";
  for (std::size_t c = 0; c < chars.size(); ++c) vocab += ",\"" + chars.substr(c, 1) + "\":" + std::to_string(5 + c);
  // Llama 2's declarations: the mark prepended and replacing spaces, undone by the decoder.
  const std::string normalizer = R"({"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},
      {"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]})";
  const std::string decoder = R"({"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},
      {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})";
  return R"({"added_tokens":[{"id":3,"content":"<|im_end|>","special":true}],"post_processor":)" + post_processor +
         R"(,"normalizer":)" + normalizer + R"(,"decoder":)" + decoder +
         R"(,"model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":[]}})";
}

// --- the reference: one token at a time, in double -----------------------

// Hugging Face's _compute_llama3_parameters, restated in double.
inline double reference_inv_freq(const TinySpec& s, int pair) {
  const double inv = 1.0 / std::pow(s.rope_theta, 2.0 * pair / s.head_dim);
  if (!s.llama3_rope) return inv;
  const double wavelen = 2.0 * M_PI / inv;
  const double low_wavelen = s.original_max_positions / s.low_freq_factor;
  const double high_wavelen = s.original_max_positions / s.high_freq_factor;
  if (wavelen < high_wavelen) return inv;
  if (wavelen > low_wavelen) return inv / s.factor;
  const double smooth = (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * inv / s.factor + smooth * inv;
}

class ReferenceForward {
 public:
  explicit ReferenceForward(const TinyCheckpoint& ck) : ck_(ck), s_(ck.spec), k_(s_.layers), v_(s_.layers) {}

  // The logits after feeding `token` at the next position.
  std::vector<double> step(std::int32_t token) {
    const auto& emb = ck_.at("model.embed_tokens.weight");
    std::vector<double> x(emb.begin() + token * s_.dim, emb.begin() + (token + 1) * s_.dim);
    for (int l = 0; l < s_.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      add(x, attention(l, p, rms(x, ck_.at(p + "input_layernorm.weight"))));
      add(x, mlp(p, rms(x, ck_.at(p + "post_attention_layernorm.weight"))));
    }
    const auto h = rms(x, ck_.at("model.norm.weight"));
    ++pos_;
    return linear(h, ck_.at(s_.tied ? "model.embed_tokens.weight" : "lm_head.weight"), s_.vocab);
  }

 private:
  std::vector<double> rms(const std::vector<double>& x, const std::vector<float>& w) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / x.size() + s_.norm_eps);
    std::vector<double> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = w[i] * x[i] * inv;
    return out;
  }
  static std::vector<double> linear(const std::vector<double>& x, const std::vector<float>& w, int rows) {
    std::vector<double> out(rows, 0.0);
    for (int r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < x.size(); ++c) out[r] += w[r * x.size() + c] * x[c];
    return out;
  }
  static void add(std::vector<double>& x, const std::vector<double>& y) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  }
  const std::vector<float>* optional(const std::string& name) const {
    auto it = ck_.tensors.find(name);
    return it == ck_.tensors.end() ? nullptr : &it->second;
  }
  // Projection + bias, per-head norm, rotation (rotate-halves), head by head.
  std::vector<double> project(const std::vector<double>& x, const std::string& p, const char* which, int heads,
                              bool rotate) const {
    auto y = linear(x, ck_.at(p + "self_attn." + which + "_proj.weight"), heads * s_.head_dim);
    if (const auto* b = optional(p + "self_attn." + which + "_proj.bias"))
      for (std::size_t i = 0; i < y.size(); ++i) y[i] += (*b)[i];
    const int hs = s_.head_dim;
    for (int h = 0; h < heads; ++h) {
      std::vector<double> head(y.begin() + h * hs, y.begin() + (h + 1) * hs);
      if (const auto* n = optional(p + "self_attn." + which + "_norm.weight")) head = rms(head, *n);
      if (rotate)
        for (int i = 0; i < hs / 2; ++i) {
          const double angle = pos_ * reference_inv_freq(s_, i), c = std::cos(angle), sn = std::sin(angle);
          const double a = head[i], b = head[i + hs / 2];
          head[i] = a * c - b * sn;
          head[i + hs / 2] = a * sn + b * c;
        }
      std::copy(head.begin(), head.end(), y.begin() + h * hs);
    }
    return y;
  }
  std::vector<double> attention(int l, const std::string& p, const std::vector<double>& x) {
    const auto q = project(x, p, "q", s_.heads, true);
    k_[l].push_back(project(x, p, "k", s_.kv_heads, true));
    v_[l].push_back(project(x, p, "v", s_.kv_heads, false));
    const int hs = s_.head_dim, group = s_.heads / s_.kv_heads;
    std::vector<double> out(s_.heads * hs, 0.0);
    for (int h = 0; h < s_.heads; ++h) {
      const int kvh = h / group;
      std::vector<double> scores;
      double top = -1e300;
      for (const auto& k : k_[l]) {
        double d = 0;
        for (int i = 0; i < hs; ++i) d += q[h * hs + i] * k[kvh * hs + i];
        scores.push_back(d / std::sqrt(static_cast<double>(hs)));
        top = std::max(top, scores.back());
      }
      double sum = 0;
      for (auto& sc : scores) sum += (sc = std::exp(sc - top));
      for (std::size_t t = 0; t < scores.size(); ++t)
        for (int i = 0; i < hs; ++i) out[h * hs + i] += scores[t] / sum * v_[l][t][kvh * hs + i];
    }
    return linear(out, ck_.at(p + "self_attn.o_proj.weight"), s_.dim);
  }
  std::vector<double> mlp(const std::string& p, const std::vector<double>& x) const {
    auto g = linear(x, ck_.at(p + "mlp.gate_proj.weight"), s_.hidden);
    const auto u = linear(x, ck_.at(p + "mlp.up_proj.weight"), s_.hidden);
    for (int i = 0; i < s_.hidden; ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    return linear(g, ck_.at(p + "mlp.down_proj.weight"), s_.dim);
  }

  const TinyCheckpoint& ck_;
  const TinySpec s_;
  std::vector<std::vector<std::vector<double>>> k_, v_;  // [layer][position][kv_heads*hs]
  int pos_ = 0;
};

}  // namespace pagedserve::testing
