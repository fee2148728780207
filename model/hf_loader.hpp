#pragma once
// Loads a Hugging Face Llama-family model directory: config.json plus
// model.safetensors, or shards listed in model.safetensors.index.json.

#include <string>

#include "model/config.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

struct HfModel {
  ModelConfig config;
  ModelWeights weights;
};

// The whole text of a file of the model directory; throws naming it.
std::string read_model_file(const std::string& path);

// Parses a config.json text (Llama field names); throws naming the field.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& where);

// Throws std::runtime_error naming the file and the tensor or field at fault.
HfModel load_hf_model(const std::string& dir);

}  // namespace pagedserve::model
