#pragma once
// Test utilities: write safetensors files and export a llama2.c checkpoint
// as a Hugging Face model directory.

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "kernels/tensor.hpp"
#include "model/llama2c_loader.hpp"

namespace pagedserve::testing {

struct TensorToWrite {
  std::string dtype = "F32";  // F32, F16, BF16 (or anything, to test errors)
  std::vector<std::int64_t> shape;
  std::vector<char> bytes;
};

inline std::vector<char> to_bytes(const std::vector<float>& v, const std::string& dtype) {
  std::vector<char> out;
  for (float f : v) {
    if (dtype == "F32") {
      const char* p = reinterpret_cast<const char*>(&f);
      out.insert(out.end(), p, p + 4);
    } else {
      std::uint16_t h = dtype == "F16" ? kernels::float_to_half(f) : kernels::float_to_bf16(f);
      out.push_back(static_cast<char>(h & 0xff));
      out.push_back(static_cast<char>(h >> 8));
    }
  }
  return out;
}

inline void write_safetensors(const std::string& path, const std::map<std::string, TensorToWrite>& tensors,
                              std::string header_override = "") {
  std::string header = "{";
  std::vector<char> data;
  for (const auto& [name, t] : tensors) {
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) header += ',';
      header += std::to_string(t.shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + t.bytes.size()) + "]}";
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  header += "}";
  if (!header_override.empty()) header = header_override;
  std::uint64_t len = header.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("pagedserve-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Meta's permutation from adjacent-pair rotary rows to rotate-halves rows:
// row h*hs + 2i + j moves to h*hs + j*hs/2 + i.
inline std::vector<float> permute_for_halves(const model::HostTensor& w, int heads, int hs) {
  const auto* src = static_cast<const float*>(w.data);
  std::vector<float> out(static_cast<std::size_t>(w.rows * w.cols));
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < hs / 2; ++i)
      for (int j = 0; j < 2; ++j)
        std::memcpy(&out[(h * hs + j * hs / 2 + i) * w.cols], src + (h * hs + 2 * i + j) * w.cols, w.cols * sizeof(float));
  return out;
}

inline std::vector<float> as_vector(const model::HostTensor& t) {
  const auto* p = static_cast<const float*>(t.data);
  return {p, p + t.rows * t.cols};
}

// Writes `dir`/config.json and the weights, in `num_shards` safetensors
// files (with an index when more than one).
inline void export_hf(const std::string& checkpoint, const std::string& dir, const std::string& dtype, int num_shards) {
  auto ck = model::load_llama2c_checkpoint(checkpoint);
  const auto& c = ck.config;
  std::vector<std::map<std::string, TensorToWrite>> shards(num_shards);
  int next = 0;
  auto put = [&](const std::string& name, std::vector<float> v, std::vector<std::int64_t> shape) {
    shards[next++ % num_shards][name] = {dtype, shape, to_bytes(v, dtype)};
  };
  auto mat = [](const model::HostTensor& t) { return std::vector<std::int64_t>{t.rows, t.cols}; };
  put("model.embed_tokens.weight", as_vector(ck.weights.token_embedding), mat(ck.weights.token_embedding));
  put("model.norm.weight", as_vector(ck.weights.final_norm), {c.dim});
  for (int l = 0; l < c.num_layers; ++l) {
    const auto& w = ck.weights.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    put(p + "input_layernorm.weight", as_vector(w.attn_norm), {c.dim});
    put(p + "post_attention_layernorm.weight", as_vector(w.ffn_norm), {c.dim});
    put(p + "self_attn.q_proj.weight", permute_for_halves(w.wq, c.num_heads, c.head_size), mat(w.wq));
    put(p + "self_attn.k_proj.weight", permute_for_halves(w.wk, c.num_kv_heads, c.head_size), mat(w.wk));
    put(p + "self_attn.v_proj.weight", as_vector(w.wv), mat(w.wv));
    put(p + "self_attn.o_proj.weight", as_vector(w.wo), mat(w.wo));
    put(p + "mlp.gate_proj.weight", as_vector(w.w_gate), mat(w.w_gate));
    put(p + "mlp.up_proj.weight", as_vector(w.w_up), mat(w.w_up));
    put(p + "mlp.down_proj.weight", as_vector(w.w_down), mat(w.w_down));
  }
  std::ofstream(dir + "/config.json")
      << "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":" << c.dim << ",\"intermediate_size\":" << c.hidden_dim
      << ",\"num_hidden_layers\":" << c.num_layers << ",\"num_attention_heads\":" << c.num_heads
      << ",\"num_key_value_heads\":" << c.num_kv_heads << ",\"vocab_size\":" << c.vocab_size
      << ",\"max_position_embeddings\":" << c.max_seq_len << ",\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0"
      << ",\"tie_word_embeddings\":true,\"bos_token_id\":1,\"eos_token_id\":[1,2],\"torch_dtype\":\"float32\"}";
  if (num_shards == 1) {
    write_safetensors(dir + "/model.safetensors", shards[0]);
    return;
  }
  std::string index = "{\"metadata\":{},\"weight_map\":{";
  bool first = true;
  for (int s = 0; s < num_shards; ++s) {
    std::string file = "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(num_shards) + ".safetensors";
    write_safetensors(dir + "/" + file, shards[s]);
    for (const auto& [name, t] : shards[s]) {
      if (!first) index += ',';
      index += "\"" + name + "\":\"" + file + "\"";
      first = false;
    }
  }
  std::ofstream(dir + "/model.safetensors.index.json") << index << "}}";
}

}  // namespace pagedserve::testing
