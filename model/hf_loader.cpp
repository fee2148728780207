#include "model/hf_loader.hpp"

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/hf_architecture.hpp"
#include "model/safetensors.hpp"

namespace pagedserve::model {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) { return read_model_file(p.string()); }

std::int64_t int_field(simdjson::dom::element obj, const char* name, std::int64_t fallback, const std::string& where,
                       bool required) {
  simdjson::dom::element v;
  if (obj[name].get(v) || v.is_null()) {
    if (required) throw std::runtime_error(where + ": config.json lacks " + name);
    return fallback;
  }
  std::int64_t x = 0;
  if (v.get(x)) throw std::runtime_error(where + ": config.json field " + name + " is not an integer");
  return x;
}

double number_field(simdjson::dom::element obj, const char* name, double fallback, const std::string& where) {
  simdjson::dom::element v;
  if (obj[name].get(v) || v.is_null()) return fallback;
  double x = 0;
  if (v.get(x)) throw std::runtime_error(where + ": config.json field " + name + " is not a number");
  return x;
}

}  // namespace

std::string read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ModelConfig parse_hf_config(const std::string& json_text, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json_text).get(root) || !root.is_object())
    throw std::runtime_error(where + ": config.json is not a JSON object");
  check_hf_architecture(root, where);
  ModelConfig c;
  c.name = fs::path(where).filename().string();
  c.dim = static_cast<int>(int_field(root, "hidden_size", 0, where, true));
  c.hidden_dim = static_cast<int>(int_field(root, "intermediate_size", 0, where, true));
  c.num_layers = static_cast<int>(int_field(root, "num_hidden_layers", 0, where, true));
  c.num_heads = static_cast<int>(int_field(root, "num_attention_heads", 0, where, true));
  c.num_kv_heads = static_cast<int>(int_field(root, "num_key_value_heads", c.num_heads, where, false));
  c.head_size = static_cast<int>(int_field(root, "head_dim", c.num_heads > 0 ? c.dim / c.num_heads : 0, where, false));
  c.vocab_size = static_cast<int>(int_field(root, "vocab_size", 0, where, true));
  c.max_seq_len = static_cast<int>(int_field(root, "max_position_embeddings", 2048, where, false));
  c.rope_theta = static_cast<float>(number_field(root, "rope_theta", 10000.0, where));
  c.norm_eps = static_cast<float>(number_field(root, "rms_norm_eps", 1e-5, where));
  c.rope_layout = kernels::RopeLayout::rotate_halves;
  bool tied = false;
  if (root["tie_word_embeddings"].get(tied)) tied = false;
  c.tied_embeddings = tied;
  c.bos_id = static_cast<std::int32_t>(int_field(root, "bos_token_id", 1, where, false));
  c.eos_ids.clear();
  simdjson::dom::element eos;
  if (!root["eos_token_id"].get(eos)) {
    if (eos.is_array()) {
      for (auto e : eos.get_array()) {
        std::int64_t id = 0;
        if (e.get(id)) throw std::runtime_error(where + ": config.json eos_token_id holds a non-integer");
        c.eos_ids.push_back(static_cast<std::int32_t>(id));
      }
    } else if (std::int64_t id = 0; !eos.get(id)) {
      c.eos_ids.push_back(static_cast<std::int32_t>(id));
    }
  }
  if (c.eos_ids.empty()) c.eos_ids = {2};
  apply_hf_architecture(root, c, where);
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  return c;
}

namespace {

// The shard files of the model: model.safetensors, or those the index names.
std::vector<fs::path> shard_paths(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {dir / "model.safetensors"};
  const fs::path index = dir / "model.safetensors.index.json";
  if (!fs::exists(index)) throw std::runtime_error(dir.string() + " has neither model.safetensors nor model.safetensors.index.json");
  simdjson::dom::parser parser;
  simdjson::dom::object map;
  if (parser.parse(read_text(index)).get_object()["weight_map"].get(map))
    throw std::runtime_error(index.string() + " has no weight_map object");
  std::set<std::string> files;
  for (auto [name, file] : map) {
    std::string_view f;
    if (file.get(f) || f.find('/') != std::string_view::npos)
      throw std::runtime_error(index.string() + ": bad shard name for " + std::string(name));
    files.emplace(f);
  }
  std::vector<fs::path> out;
  for (const auto& f : files) out.push_back(dir / f);
  return out;
}

// The checkpoint's tensors by name; remembers which were taken so tensors
// the architecture does not use are refused rather than silently ignored.
class TensorSet {
 public:
  explicit TensorSet(std::string architecture) : architecture_(std::move(architecture)) {}
  void add(const SafetensorsFile& file) {
    for (const auto& [name, e] : file.tensors()) tensors_[name] = {e, file.path()};
  }
  // The tensor `name`, checked to be [rows, cols].
  HostTensor take(const std::string& name, std::int64_t rows, std::int64_t cols) {
    auto it = tensors_.find(name);
    if (it == tensors_.end())
      throw std::runtime_error("the checkpoint lacks tensor " + name + ", which " + architecture_ + " needs");
    taken_.insert(name);
    const auto& [e, path] = it->second;
    if (e.tensor.rows * e.tensor.cols != rows * cols || e.tensor.cols != cols)
      throw std::runtime_error(path + ": tensor " + name + " has shape [" + std::to_string(e.tensor.rows) + ", " +
                               std::to_string(e.tensor.cols) + "], the config implies [" + std::to_string(rows) +
                               ", " + std::to_string(cols) + "]");
    HostTensor t = e.tensor;
    t.rows = rows;
    return t;
  }
  bool has(const std::string& name) const { return tensors_.count(name) > 0; }
  // A tensor the model does not read but may carry (a tied lm_head).
  void ignore(const std::string& name) { taken_.insert(name); }

  // Throws naming the tensors nobody took (rotary frequency buffers that
  // old checkpoints saved are recomputed, so they may stay behind).
  void check_all_taken() const {
    std::string left;
    int count = 0;
    for (const auto& [name, e] : tensors_) {
      if (taken_.count(name) || name.ends_with("rotary_emb.inv_freq")) continue;
      if (++count <= 5) left += (left.empty() ? "" : ", ") + name;
    }
    if (count > 0)
      throw std::runtime_error("the checkpoint holds " + std::to_string(count) + " tensor(s) that " + architecture_ +
                               " does not use (" + left + (count > 5 ? ", ..." : "") +
                               "): a different architecture or an unsupported variant");
  }

 private:
  std::string architecture_;
  std::map<std::string, std::pair<SafetensorsEntry, std::string>> tensors_;
  std::set<std::string> taken_;
};

// Qwen2's q/k/v biases and Qwen3's q/k norms, where the config has them.
void take_extras(TensorSet& set, const ModelConfig& c, const std::string& p, LayerWeights& lw) {
  const std::int64_t q = static_cast<std::int64_t>(c.num_heads) * c.head_size;
  const std::int64_t kv = static_cast<std::int64_t>(c.num_kv_heads) * c.head_size;
  if (c.qkv_bias) {
    lw.bq = set.take(p + "self_attn.q_proj.bias", 1, q);
    lw.bk = set.take(p + "self_attn.k_proj.bias", 1, kv);
    lw.bv = set.take(p + "self_attn.v_proj.bias", 1, kv);
  }
  if (c.qk_norm) {
    lw.q_norm = set.take(p + "self_attn.q_norm.weight", 1, c.head_size);
    lw.k_norm = set.take(p + "self_attn.k_norm.weight", 1, c.head_size);
  }
}

}  // namespace

HfModel load_hf_model(const std::string& dir_text) {
  fs::path dir(dir_text);
  HfModel m;
  m.config = parse_hf_config(read_text(dir / "config.json"), dir_text);
  const ModelConfig& c = m.config;
  TensorSet set(c.architecture);
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  for (const auto& p : shard_paths(dir)) {
    files.push_back(std::make_unique<SafetensorsFile>(p.string()));
    set.add(*files.back());
  }
  const std::int64_t dim = c.dim, hidden = c.hidden_dim;
  const std::int64_t q = static_cast<std::int64_t>(c.num_heads) * c.head_size;
  const std::int64_t kv = static_cast<std::int64_t>(c.num_kv_heads) * c.head_size;
  ModelWeights& w = m.weights;
  w.token_embedding = set.take("model.embed_tokens.weight", c.vocab_size, dim);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = set.take(p + "input_layernorm.weight", 1, dim);
    lw.wq = set.take(p + "self_attn.q_proj.weight", q, dim);
    lw.wk = set.take(p + "self_attn.k_proj.weight", kv, dim);
    lw.wv = set.take(p + "self_attn.v_proj.weight", kv, dim);
    lw.wo = set.take(p + "self_attn.o_proj.weight", dim, q);
    lw.ffn_norm = set.take(p + "post_attention_layernorm.weight", 1, dim);
    lw.w_gate = set.take(p + "mlp.gate_proj.weight", hidden, dim);
    lw.w_up = set.take(p + "mlp.up_proj.weight", hidden, dim);
    lw.w_down = set.take(p + "mlp.down_proj.weight", dim, hidden);
    take_extras(set, c, p, lw);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = set.take("model.norm.weight", 1, dim);
  // Tied: Hugging Face ties lm_head to the embedding even when a copy is
  // stored, so the copy is ignored. Untied: lm_head must be there.
  if (c.tied_embeddings) {
    set.ignore("lm_head.weight");
    w.lm_head = w.token_embedding;
  } else {
    w.lm_head = set.take("lm_head.weight", c.vocab_size, dim);
  }
  set.check_all_taken();
  return m;
}

}  // namespace pagedserve::model
