#pragma once
// The files of a Hugging Face model directory beside config.json and the
// weights: generation_config.json (sampling defaults, end-of-generation
// ids) and tokenizer_config.json (whether prompts start with BOS; which
// tokens BOS and EOS are).

#include <string>

#include "model/config.hpp"
#include "model/hf_tokenizer.hpp"

namespace pagedserve::model {

// generation_config.json, when the directory has one: its sampling defaults
// go to config.generation and its eos_token_id list joins config.eos_ids.
void apply_generation_config(const std::string& dir, ModelConfig& config);

// tokenizer_config.json (when present) and tokenizer.json's post-processor
// decide the tokenizer's BOS (added or not, and its id) and EOS; config's
// bos_id follows, and the EOS joins config.eos_ids. Its chat templates go
// to config.chat_templates. Throws naming a token
// the tokenizer does not have.
void apply_tokenizer_config(const std::string& dir, const std::string& tokenizer_path, HfTokenizer& tokenizer,
                            ModelConfig& config);

}  // namespace pagedserve::model
