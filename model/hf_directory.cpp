#include "model/hf_directory.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "model/generation_config.hpp"
#include "model/hf_loader.hpp"
#include "model/tokenizer_config.hpp"

namespace pagedserve::model {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) { return read_model_file(p.string()); }

void add_eos(ModelConfig& c, std::int32_t id, const std::string& where, const char* source) {
  if (id < 0 || id >= c.vocab_size)
    throw std::runtime_error(where + ": " + source + " names end-of-generation token " + std::to_string(id) +
                             ", outside the vocabulary (" + std::to_string(c.vocab_size) + ")");
  if (std::find(c.eos_ids.begin(), c.eos_ids.end(), id) == c.eos_ids.end()) c.eos_ids.push_back(id);
}

}  // namespace

void apply_generation_config(const std::string& dir, ModelConfig& config) {
  const fs::path path = fs::path(dir) / "generation_config.json";
  if (!fs::exists(path)) return;
  const GenerationConfig g = parse_generation_config(read_text(path), dir);
  config.generation = g.defaults;
  for (auto id : g.eos_ids) add_eos(config, id, dir, "generation_config.json");
}

void apply_tokenizer_config(const std::string& dir, const std::string& tokenizer_path, HfTokenizer& tokenizer,
                            ModelConfig& config) {
  const fs::path path = fs::path(dir) / "tokenizer_config.json";
  const TokenizerConfig tc = fs::exists(path) ? parse_tokenizer_config(read_text(path), dir) : TokenizerConfig{};
  const auto from_template = template_bos_token(read_text(tokenizer_path));
  auto id_of = [&](const std::optional<std::string>& text, std::int32_t fallback, const char* what) {
    if (!text) return fallback;
    const std::int32_t id = tokenizer.token_id(*text);
    if (id < 0 || id >= config.vocab_size)
      throw std::runtime_error(dir + ": " + what + " \"" + *text + "\" is not a token of the model's tokenizer");
    return id;
  };
  const std::int32_t bos = id_of(tc.bos_token ? tc.bos_token : from_template, config.bos_id, "bos_token");
  const std::int32_t eos = id_of(tc.eos_token, config.eos_ids.front(), "eos_token");
  tokenizer.set_special_tokens(wants_bos(tc, from_template), bos, eos);
  config.bos_id = bos;
  add_eos(config, eos, dir, "tokenizer_config.json");
  config.chat_templates = {tc.chat_templates, tc.bos_token, tc.eos_token};
}

}  // namespace pagedserve::model
