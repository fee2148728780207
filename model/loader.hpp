#pragma once
// One entry point for every model source:
//   - a Hugging Face directory: config.json, model.safetensors (or shards
//     with model.safetensors.index.json) and tokenizer.json, with
//     generation_config.json and tokenizer_config.json when present
//     (model/hf_directory.hpp);
//   - a directory holding a llama2.c checkpoint (*.bin) and its tokenizer
//     (tokenizer.bin or tok*.bin), e.g. models/stories260K;
//   - a llama2.c checkpoint file, with its tokenizer beside it;
//   - "dummy:<preset>" (e.g. dummy:llama2-7b): random weights of that shape.

#include <memory>
#include <string>

#include "kernels/tensor.hpp"
#include "model/config.hpp"
#include "model/tokenizer.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

struct LoadOptions {
  std::string tokenizer_path;  // overrides the tokenizer found beside the model
  kernels::DType dummy_dtype = kernels::DType::f32;
  std::uint64_t dummy_seed = 0;
};

struct LoadedModel {
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;  // null only for a dummy model without one
};

// Throws std::runtime_error / std::invalid_argument naming the path and what
// is wrong.
LoadedModel load_model(const std::string& path, const LoadOptions& options = {});

// The tokenizer file load_model reads for `path` (a tokenizer.json or a
// llama2.c tokenizer.bin), or "" for a dummy model without one.
std::string tokenizer_file(const std::string& path, const LoadOptions& options = {});

}  // namespace pagedserve::model
