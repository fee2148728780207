// `pagedserve tokenize`: a tokenizer.json's ids and decoded text for each
// line of standard input, without loading a model. Each input line is a
// JSON string (so any text, newlines included, fits on one line); each
// output line is {"ids": [...], "ids_with_bos": [...], "text": "..."}.

#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "model/hf_loader.hpp"
#include "model/hf_tokenizer.hpp"
#include "model/tokenizer_config.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp =
    "usage: pagedserve tokenize --tokenizer tokenizer.json < lines\n"
    "  reads one JSON string per line and prints, per line,\n"
    "  {\"ids\": [...], \"ids_with_bos\": [...], \"text\": \"...\"}: the ids without and with\n"
    "  the BOS a prompt gets (tokenizer_config.json beside the file and the post-processor\n"
    "  decide), and the text the ids decode to (special tokens kept).\n";

// BOS as a prompt gets it: tokenizer_config.json beside the file, else the post-processor.
void apply_bos(const std::string& path, model::HfTokenizer& tokenizer) {
  namespace fs = std::filesystem;
  const fs::path config_path = fs::path(path).parent_path() / "tokenizer_config.json";
  const auto config = fs::exists(config_path)
                          ? model::parse_tokenizer_config(model::read_model_file(config_path.string()), path)
                          : model::TokenizerConfig{};
  const auto from_template = model::template_bos_token(model::read_model_file(path));
  const auto bos_text = config.bos_token ? config.bos_token : from_template;
  const std::int32_t bos = bos_text ? tokenizer.token_id(*bos_text) : -1;
  const std::int32_t eos = config.eos_token ? tokenizer.token_id(*config.eos_token) : -1;
  tokenizer.set_special_tokens(bos >= 0 && model::wants_bos(config, from_template), bos, eos);
}

std::string id_list(const std::vector<std::int32_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

}  // namespace

int run_tokenize(int argc, char** argv) {
  Args args(argc, argv, {});
  if (args.answered_help(kHelp)) return 0;
  args.reject_unknown({"tokenizer"});
  const auto path = args.get("tokenizer");
  if (!path) throw CliError("--tokenizer FILE is required (a tokenizer.json)");
  auto tokenizer = model::HfTokenizer::from_file(*path, -1, -1);
  apply_bos(*path, tokenizer);
  simdjson::dom::parser parser;
  std::string line;
  for (int number = 1; std::getline(std::cin, line); ++number) {
    std::string_view text;
    if (parser.parse(line).get(text)) throw CliError("line " + std::to_string(number) + " is not a JSON string");
    const auto ids = tokenizer.encode(text, false);
    std::printf("{\"ids\":%s,\"ids_with_bos\":%s,\"text\":%s}\n", id_list(ids).c_str(),
                id_list(tokenizer.encode(text, true)).c_str(), net::json_quote(tokenizer.decode_sequence(ids)).c_str());
  }
  return 0;
}

}  // namespace pagedserve::cli
