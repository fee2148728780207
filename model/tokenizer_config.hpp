#pragma once
// What a Hugging Face directory says about special tokens beyond
// tokenizer.json's vocabulary: tokenizer_config.json's add_bos_token,
// bos_token, eos_token and chat_template, and the BOS that tokenizer.json's
// post-processor template puts in front of every text (Llama 3).

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pagedserve::model {

struct TokenizerConfig {
  bool present = false;                // the file exists
  std::optional<bool> add_bos_token;
  std::optional<std::string> bos_token;  // the token's text; none when absent or null
  std::optional<std::string> eos_token;
  // chat_template: a string (named "default") or a list of {name, template}.
  std::vector<std::pair<std::string, std::string>> chat_templates;
};

// Parses tokenizer_config.json text. A token may be a string or an
// AddedToken object ({"content": "..."}). Throws std::runtime_error
// prefixed with `where` naming a mistyped field.
TokenizerConfig parse_tokenizer_config(const std::string& json_text, const std::string& where);

// The special token tokenizer.json's post-processor puts first in a single
// text (TemplateProcessing, alone or inside a Sequence), if any.
std::optional<std::string> template_bos_token(const std::string& tokenizer_json);

// Whether encoding a prompt starts with BOS: add_bos_token when given; else
// a post-processor template's first special token; else only when the
// model has a BOS token at all (Qwen's tokenizer_config names none).
bool wants_bos(const TokenizerConfig& config, const std::optional<std::string>& template_bos);

}  // namespace pagedserve::model
