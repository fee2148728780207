#pragma once
// The shape and conventions of a Llama-family model.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.hpp"
#include "model/generation_config.hpp"

namespace pagedserve::model {

// tokenizer_config.json's chat templates and the text of the special tokens
// they are rendered with. A lone `chat_template` string is named "default".
struct ChatTemplateSources {
  std::vector<std::pair<std::string, std::string>> named;  // (name, Jinja source)
  std::optional<std::string> bos_token;  // absent where the model has none (Qwen)
  std::optional<std::string> eos_token;
};

struct ModelConfig {
  std::string name = "model";
  int dim = 0;           // hidden size
  int hidden_dim = 0;    // FFN intermediate size
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;  // < num_heads: grouped-query attention
  int head_size = 0;     // usually dim / num_heads
  int vocab_size = 0;
  int max_seq_len = 0;   // max positions (max_model_len)
  float rope_theta = 10000.0f;
  kernels::RopeLayout rope_layout = kernels::RopeLayout::adjacent_pairs;
  kernels::RopeScaling rope_scaling;  // Llama 3.x rope_scaling "llama3"
  // The Hugging Face architecture (config.json `architectures`), which
  // decides the extras below.
  std::string architecture = "LlamaForCausalLM";
  bool qkv_bias = false;     // Qwen2: biases on the q, k and v projections
  bool qk_norm = false;      // Qwen3: per-head RMSNorm of q and k before RoPE
  int sliding_window = 0;    // Mistral: attention window in tokens (0: none)
  float norm_eps = 1e-5f;
  bool tied_embeddings = true;  // lm_head shares the token embedding
  std::int32_t bos_id = 1;
  std::vector<std::int32_t> eos_ids = {2};
  // generation_config.json's sampling defaults: what a request that leaves
  // a parameter out gets.
  GenerationDefaults generation;
  ChatTemplateSources chat_templates;  // none: the server's fallback chat format

  // Throws std::invalid_argument naming the first inconsistent field.
  void validate() const;
  kernels::RopeParams rope_params() const;
  kernels::AttentionParams attention_params() const;
  // Parameter count (for reports), excluding a tied lm_head.
  std::int64_t num_parameters() const;
};

// Well-known shapes for dummy-weight benchmarks: "stories260K", "stories15M",
// "llama2-7b", ... Throws std::invalid_argument on an unknown name.
ModelConfig preset_config(const std::string& name);

}  // namespace pagedserve::model
