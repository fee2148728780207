#include "model/loader.hpp"

#include <filesystem>
#include <stdexcept>

#include "model/dummy_weights.hpp"
#include "model/hf_directory.hpp"
#include "model/hf_loader.hpp"
#include "model/hf_tokenizer.hpp"
#include "model/llama2c_loader.hpp"
#include "model/llama2c_tokenizer.hpp"

namespace pagedserve::model {

namespace fs = std::filesystem;

namespace {

// tokenizer.bin, else the first tok*.bin, in `dir`.
std::string find_llama2c_tokenizer(const fs::path& dir, const fs::path& checkpoint) {
  if (fs::exists(dir / "tokenizer.bin") && dir / "tokenizer.bin" != checkpoint) return (dir / "tokenizer.bin").string();
  for (const auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.rfind("tok", 0) == 0 && e.path().extension() == ".bin" && e.path() != checkpoint) return e.path().string();
  }
  throw std::runtime_error("no tokenizer (tokenizer.bin or tok*.bin) next to " + checkpoint.string() +
                           "; pass a tokenizer path");
}

// The checkpoint in a model directory: the .bin that is not a tokenizer.
fs::path find_llama2c_checkpoint(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (e.path().extension() == ".bin" && name.rfind("tok", 0) != 0) return e.path();
  }
  throw std::runtime_error(dir.string() + " holds no llama2.c checkpoint (*.bin) and no config.json");
}

LoadedModel load_llama2c(const fs::path& checkpoint, const LoadOptions& options) {
  auto ck = load_llama2c_checkpoint(checkpoint.string());
  LoadedModel m{ck.config, std::move(ck.weights), nullptr};
  m.config.name = checkpoint.stem().string();
  std::string tok = options.tokenizer_path.empty() ? find_llama2c_tokenizer(checkpoint.parent_path(), checkpoint)
                                                   : options.tokenizer_path;
  m.tokenizer = std::make_unique<Llama2cTokenizer>(tok, m.config.vocab_size);
  return m;
}

LoadedModel load_hf(const fs::path& dir, const LoadOptions& options) {
  auto hf = load_hf_model(dir.string());
  LoadedModel m{hf.config, std::move(hf.weights), nullptr};
  apply_generation_config(dir.string(), m.config);
  const std::int32_t eos = m.config.eos_ids.front();
  if (!options.tokenizer_path.empty() && fs::path(options.tokenizer_path).extension() == ".bin") {
    m.tokenizer = std::make_unique<Llama2cTokenizer>(options.tokenizer_path, m.config.vocab_size);
  } else {
    auto path = options.tokenizer_path.empty() ? (dir / "tokenizer.json").string() : options.tokenizer_path;
    if (!fs::exists(path)) throw std::runtime_error(dir.string() + " has no tokenizer.json; pass a tokenizer path");
    auto tokenizer = std::make_unique<HfTokenizer>(HfTokenizer::from_file(path, m.config.bos_id, eos));
    apply_tokenizer_config(dir.string(), path, *tokenizer, m.config);
    m.tokenizer = std::move(tokenizer);
  }
  return m;
}

LoadedModel load_dummy(const std::string& preset, const LoadOptions& options) {
  LoadedModel m;
  m.config = preset_config(preset);
  m.weights = make_dummy_weights(m.config, options.dummy_dtype, options.dummy_seed);
  m.config.name = "dummy-" + preset;
  if (!options.tokenizer_path.empty())
    m.tokenizer = std::make_unique<Llama2cTokenizer>(options.tokenizer_path, m.config.vocab_size);
  return m;
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
  if (path.rfind("dummy:", 0) == 0) return load_dummy(path.substr(6), options);
  fs::path p(path);
  std::error_code ec;
  if (!fs::exists(p, ec)) throw std::runtime_error("model path " + path + " does not exist");
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "config.json")) return load_hf(p, options);
    return load_llama2c(find_llama2c_checkpoint(p), options);
  }
  return load_llama2c(p, options);
}

std::string tokenizer_file(const std::string& path, const LoadOptions& options) {
  if (!options.tokenizer_path.empty()) return options.tokenizer_path;
  if (path.rfind("dummy:", 0) == 0) return "";
  fs::path p(path);
  if (fs::is_directory(p) && fs::exists(p / "config.json")) return (p / "tokenizer.json").string();
  const auto checkpoint = fs::is_directory(p) ? find_llama2c_checkpoint(p) : p;
  return find_llama2c_tokenizer(checkpoint.parent_path(), checkpoint);
}

}  // namespace pagedserve::model
