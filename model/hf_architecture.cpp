#include "model/hf_architecture.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace pagedserve::model {

namespace {

struct Architecture {
  std::string_view name;
  bool qkv_bias;
  bool qk_norm;
  bool sliding_window;  // reads `sliding_window` as the attention window
};

constexpr std::array<Architecture, 4> kArchitectures{{
    {"LlamaForCausalLM", false, false, false},
    {"MistralForCausalLM", false, false, true},
    {"Qwen2ForCausalLM", true, false, false},
    {"Qwen3ForCausalLM", false, true, false},
}};

[[noreturn]] void refuse(const std::string& where, const std::string& why) {
  throw std::runtime_error(where + ": " + why);
}

bool present(simdjson::dom::element root, const char* name, simdjson::dom::element& v) {
  return !root[name].get(v) && !v.is_null();
}

bool flag(simdjson::dom::element root, const char* name) {
  bool b = false;
  return !root[name].get(b) && b;
}

std::string architecture_name(simdjson::dom::element root, const std::string& where) {
  simdjson::dom::array names;
  std::string_view first;
  if (root["architectures"].get(names) || names.size() == 0 || names.at(0).get(first))
    refuse(where, "config.json names no architecture (`architectures`); supported: " + supported_architectures());
  return std::string(first);
}

const Architecture& find_architecture(const std::string& name, simdjson::dom::element root, const std::string& where) {
  for (const auto& a : kArchitectures)
    if (a.name == name) return a;
  simdjson::dom::element experts;
  const bool moe = name.find("Moe") != std::string::npos || name.find("Mixtral") != std::string::npos ||
                   present(root, "num_local_experts", experts) || present(root, "num_experts", experts);
  refuse(where, "architecture " + name + (moe ? " (mixture of experts)" : "") +
                    " is not supported; supported: " + supported_architectures());
}

double required_number(simdjson::dom::element obj, const char* name, const std::string& where) {
  double x = 0;
  if (obj[name].get(x)) refuse(where, std::string("rope_scaling \"llama3\" needs a number ") + name);
  return x;
}

// rope_scaling (transformers 4) or rope_parameters (transformers 5): none,
// "default", or "llama3" with its four numbers; any other type is refused.
void read_rope_scaling(simdjson::dom::element root, ModelConfig& c, const std::string& where) {
  simdjson::dom::element rope;
  const bool v5 = present(root, "rope_parameters", rope);
  if (!v5 && !present(root, "rope_scaling", rope)) return;
  if (!rope.is_object()) refuse(where, "rope_scaling is not an object");
  if (double theta = 0; v5 && !rope["rope_theta"].get(theta)) c.rope_theta = static_cast<float>(theta);
  std::string_view type = "default";
  if (rope["rope_type"].get(type) && rope["type"].get(type)) type = "default";
  if (type == "default") return;
  if (type != "llama3")
    refuse(where, "rope_scaling type \"" + std::string(type) + "\" is not supported; supported: llama3 (or none)");
  c.rope_scaling.factor = static_cast<float>(required_number(rope, "factor", where));
  c.rope_scaling.low_freq_factor = static_cast<float>(required_number(rope, "low_freq_factor", where));
  c.rope_scaling.high_freq_factor = static_cast<float>(required_number(rope, "high_freq_factor", where));
  c.rope_scaling.original_max_positions =
      static_cast<float>(required_number(rope, "original_max_position_embeddings", where));
}

// Checkpoint features no supported architecture computes.
void refuse_unsupported_features(simdjson::dom::element root, const Architecture& a, const std::string& where) {
  simdjson::dom::element v;
  if (present(root, "quantization_config", v)) {
    std::string_view method = "unknown";
    if (v.is_object() && v["quant_method"].get(method)) method = "unknown";
    refuse(where, "quantized checkpoints are not supported (quantization_config, method " + std::string(method) +
                      "); use a bf16, f16 or f32 checkpoint");
  }
  std::string_view act = "silu";
  if (!root["hidden_act"].get(act) && act != "silu")
    refuse(where, "hidden_act \"" + std::string(act) + "\" is not supported; supported: silu");
  if (flag(root, "mlp_bias")) refuse(where, "mlp_bias (biases in the MLP) is not supported");
  if (flag(root, "attention_bias") && !a.qkv_bias)
    refuse(where, "attention_bias (biases on the attention projections) is not supported for " + std::string(a.name));
  if (flag(root, "use_sliding_window"))
    refuse(where, "use_sliding_window is not supported for " + std::string(a.name));
}

// Mistral's window: full attention is exact for contexts that fit in it, so
// the context is capped at the window and longer requests are refused.
void apply_sliding_window(simdjson::dom::element root, ModelConfig& c, const std::string& where) {
  simdjson::dom::element v;
  if (!present(root, "sliding_window", v)) return;
  std::int64_t window = 0;
  if (v.get(window) || window <= 0) refuse(where, "sliding_window is not a positive integer");
  c.sliding_window = static_cast<int>(std::min<std::int64_t>(window, 1 << 30));
  c.max_seq_len = std::min(c.max_seq_len, c.sliding_window);
}

}  // namespace

std::string supported_architectures() {
  std::string out;
  for (const auto& a : kArchitectures) out += (out.empty() ? "" : ", ") + std::string(a.name);
  return out;
}

void check_hf_architecture(simdjson::dom::element root, const std::string& where) {
  find_architecture(architecture_name(root, where), root, where);
}

void apply_hf_architecture(simdjson::dom::element root, ModelConfig& c, const std::string& where) {
  const Architecture& a = find_architecture(architecture_name(root, where), root, where);
  c.architecture = std::string(a.name);
  refuse_unsupported_features(root, a, where);
  read_rope_scaling(root, c, where);
  c.qkv_bias = a.qkv_bias;
  c.qk_norm = a.qk_norm;
  if (a.sliding_window) apply_sliding_window(root, c, where);
}

}  // namespace pagedserve::model
