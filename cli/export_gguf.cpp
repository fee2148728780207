// `pagedserve export-gguf`: writes a model pagedserve loads (a Hugging Face
// directory, a llama2.c checkpoint, or dummy:<preset> weights) as a GGUF
// file for llama.cpp, so both engines can run the same weights.

#include <cstdio>
#include <optional>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "model/gguf_export.hpp"
#include "model/loader.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve export-gguf [MODEL] --out FILE [options]

  --model PATH       a Hugging Face directory, a llama2.c checkpoint (or its
                     directory), or dummy:<preset> (random weights of a shape);
                     MODEL (positional) is the same
  --out FILE         the GGUF file to write
  --outtype T        f32 | f16: how matrices are stored (default f32; norms
                     and biases stay f32)
  --tokenizer PATH   tokenizer.json or tokenizer.bin (default: the model's)
  --seed S           seed of dummy weights (default 0, as the benchmarks use)

Writes what llama.cpp's converter would: its tensor names, q/k rows in its
rotary layout, rope_freqs for Llama 3 scaling, the tokenizer as
tokenizer.ggml.* (a placeholder vocabulary for dummy weights).
)";

// llama.cpp's name for the pre-tokenizer of a byte-level vocabulary.
std::string byte_level_pre(const std::string& arch) {
  if (arch == "qwen2" || arch == "qwen3") return "qwen2";
  return arch == "llama" ? "llama-bpe" : "default";
}

model::GgufVocab read_vocab(const model::LoadedModel& m, const std::string& tokenizer_path, const std::string& arch) {
  if (tokenizer_path.empty()) return model::placeholder_vocab(m.config.vocab_size);
  auto vocab = tokenizer_path.size() > 4 && tokenizer_path.substr(tokenizer_path.size() - 4) == ".bin"
                   ? model::vocab_from_llama2c(tokenizer_path, m.config.vocab_size)
                   : model::vocab_from_tokenizer_json(tokenizer_path, byte_level_pre(arch));
  vocab.bos_id = m.config.bos_id;
  vocab.eos_id = m.config.eos_ids.front();
  vocab.add_bos = !m.tokenizer || !m.tokenizer->encode("", true).empty();
  return vocab;
}

// --model or the one positional argument, as every command takes it.
std::optional<std::string> read_model_path(const Args& args) {
  auto model = args.get("model");
  if (auto positional = args.single_positional("model")) {
    if (model && *model != *positional) throw CliError("the model is given twice: '" + *positional + "' and --model " + *model);
    model = positional;
  }
  return model;
}

model::GgufTensorType read_outtype(const Args& args) {
  const auto t = args.get_or("outtype", "f32");
  if (t == "f32") return model::GgufTensorType::f32;
  if (t == "f16") return model::GgufTensorType::f16;
  throw CliError("--outtype must be f32 or f16, got '" + t + "'");
}

}  // namespace

int run_export_gguf(int argc, char** argv) {
  Args args(argc, argv, {"help"});
  if (args.answered_help(kHelp)) return 0;
  args.reject_unknown({"model", "out", "outtype", "tokenizer", "seed", "help"}, 1);
  const auto model_path = read_model_path(args);
  const auto out = args.get("out");
  if (!model_path || !out) throw CliError("a model and --out FILE are required (see --help)");
  const auto type = read_outtype(args);
  model::LoadOptions options;
  options.tokenizer_path = args.get_or("tokenizer", "");
  options.dummy_seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, INT64_MAX));
  auto loaded = model::load_model(*model_path, options);
  std::string arch;
  try {
    arch = model::gguf_architecture(loaded.config);
  } catch (const std::invalid_argument& e) {
    throw CliError(e.what());
  }
  const auto vocab = read_vocab(loaded, model::tokenizer_file(*model_path, options), arch);
  model::export_gguf(loaded.config, loaded.weights, vocab, *out, type);
  std::printf("wrote %s: %s, %d layers, dim %d, vocab %d, %s matrices\n", out->c_str(), arch.c_str(),
              loaded.config.num_layers, loaded.config.dim, loaded.config.vocab_size,
              type == model::GgufTensorType::f32 ? "f32" : "f16");
  return 0;
}

}  // namespace pagedserve::cli
