#pragma once
// The shape and conventions of a Llama-family model.

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/backend.hpp"

namespace pagedserve::model {

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
  float norm_eps = 1e-5f;
  bool tied_embeddings = true;  // lm_head shares the token embedding
  std::int32_t bos_id = 1;
  std::vector<std::int32_t> eos_ids = {2};

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
