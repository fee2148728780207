#pragma once
// The Hugging Face architectures pagedserve runs, and what each adds to the
// Llama layer: config.json's `architectures` decides, and anything not
// supported is refused by name, never run with wrong logits.
//
//   LlamaForCausalLM    Llama 2/3.x (rope_scaling "llama3"), TinyLlama, SmolLM
//   MistralForCausalLM  Llama layer; a sliding window caps the context
//   Qwen2ForCausalLM    + biases on the q, k and v projections
//   Qwen3ForCausalLM    + per-head RMSNorm of q and k before RoPE

#include <simdjson.h>

#include <string>

#include "model/config.hpp"

namespace pagedserve::model {

// "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"
std::string supported_architectures();

// Throws std::runtime_error naming the architecture when config.json's
// `architectures` is missing or not one of the supported ones (checked
// before anything else, so a GPT-2 or Mixtral config is refused by name).
void check_hf_architecture(simdjson::dom::element root, const std::string& where);

// Reads the architecture and its conventions from config.json's root into
// `c` (whose basic shape is already read): architecture, rope_scaling,
// biases, q/k norms, sliding window. Throws std::runtime_error, prefixed
// with `where`, for an unsupported architecture, rope_scaling type,
// quantization, activation or bias layout.
void apply_hf_architecture(simdjson::dom::element root, ModelConfig& c, const std::string& where);

}  // namespace pagedserve::model
