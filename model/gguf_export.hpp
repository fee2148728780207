#pragma once
// Writes a model pagedserve has loaded as the GGUF file llama.cpp's own
// converter (convert_hf_to_gguf.py) would make of it, so that llama.cpp can
// run the very weights pagedserve runs:
//   - architecture: Llama and Mistral -> "llama", Qwen2 -> "qwen2",
//     Qwen3 -> "qwen3"; llama2.c checkpoints are Llama;
//   - tensors renamed (token_embd, blk.N.attn_q, ..., output), the output
//     left out when tied to the embedding (llama.cpp then reuses it);
//   - q/k rows ordered for llama.cpp's rotary layout: "llama" rotates
//     adjacent pairs, "qwen2"/"qwen3" rotate halves (NeoX), so Hugging Face
//     Llama weights get the converter's permutation and Qwen's none;
//   - Llama 3 rope_scaling as the rope_freqs tensor of per-pair divisors;
//   - norms and biases in f32, matrices in f32 or f16.

#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/gguf_vocab.hpp"
#include "model/gguf_writer.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

// "llama", "qwen2" or "qwen3"; throws std::invalid_argument naming an
// architecture llama.cpp would run differently.
std::string gguf_architecture(const ModelConfig& c);

// The rotary layout llama.cpp applies to an architecture.
kernels::RopeLayout gguf_rope_layout(const std::string& architecture);

// Per rotary pair, the number llama.cpp divides its frequency by, as the
// converter computes it from rope_scaling "llama3".
std::vector<float> llama3_rope_factors(const ModelConfig& c);

// Writes `weights` (host, or synthetic: generated here) to `path`.
void export_gguf(const ModelConfig& c, const ModelWeights& weights, const GgufVocab& vocab, const std::string& path,
                 GgufTensorType matrix_type = GgufTensorType::f32);

}  // namespace pagedserve::model
