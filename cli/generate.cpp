// `pagedserve generate`: runs prompts through the model with paged KV memory
// and prints the stories (or one JSON line per prompt).

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve generate [options]

  --model PATH           model directory, llama2.c checkpoint, or dummy:<preset>
                         (default models/stories260K)
  --tokenizer PATH       tokenizer file (default: the one beside the model)
  --prompt TEXT          a prompt; repeat for several (run concurrently)
  --prompts-file FILE    one prompt per line
  --max-tokens N         new tokens per prompt (default 256)
  --temperature T        0 = greedy (default 1.0)
  --top-p P  --top-k K  --min-p M  --seed S
  --repetition-penalty R  --presence-penalty P  --frequency-penalty F
  --stop STR             stop string (repeatable)   --ignore-eos
  --block-size B         KV block size in tokens (default 16)
  --num-blocks N         KV blocks in the pool (default: room for every prompt)
  --max-num-seqs S       sequences per step (default 256)
  --device DEV           cpu | cuda:N (default cpu)
  --json                 one line per prompt: {"prompt_ids", "output_ids", "text"}
                         where text is the prompt and its continuation as printed
)";

std::vector<std::string> read_prompts(const Args& args) {
  auto prompts = args.get_all("prompt");
  if (auto file = args.get("prompts-file")) {
    std::ifstream in(*file);
    if (!in) throw CliError("cannot read --prompts-file " + *file);
    for (std::string line; std::getline(in, line);) prompts.push_back(line);
  }
  if (prompts.empty()) prompts.push_back("");
  return prompts;
}

model::SamplingParams read_sampling(const Args& args) {
  model::SamplingParams p;
  p.max_tokens = static_cast<int>(args.get_int("max-tokens", 256, 0, 1 << 20));
  p.temperature = static_cast<float>(args.get_double("temperature", 1.0, 0, 100));
  p.top_p = static_cast<float>(args.get_double("top-p", 1.0, 0, 1));
  p.top_k = static_cast<int>(args.get_int("top-k", -1, -1, 1 << 20));
  p.min_p = static_cast<float>(args.get_double("min-p", 0, 0, 1));
  p.repetition_penalty = static_cast<float>(args.get_double("repetition-penalty", 1, 0, 10));
  p.presence_penalty = static_cast<float>(args.get_double("presence-penalty", 0, -2, 2));
  p.frequency_penalty = static_cast<float>(args.get_double("frequency-penalty", 0, -2, 2));
  if (args.has("seed")) p.seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, INT64_MAX));
  p.stop = args.get_all("stop");
  p.ignore_eos = args.has("ignore-eos");
  try {
    p.validate();
  } catch (const model::InvalidParam& e) {
    throw CliError(e.what());
  }
  return p;
}

const std::set<std::string> kKnown = {"model", "tokenizer", "prompt", "prompts-file", "max-tokens", "temperature",
                                      "top-p", "top-k", "min-p", "seed", "repetition-penalty", "presence-penalty",
                                      "frequency-penalty", "stop", "ignore-eos", "block-size", "num-blocks",
                                      "max-num-seqs", "device", "json", "help"};

}  // namespace

int run_generate(int argc, char** argv) {
  Args args(argc, argv, {"json", "help", "ignore-eos"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  args.reject_unknown(kKnown);
  const auto prompts = read_prompts(args);
  const auto sampling = read_sampling(args);
  const int block_size = static_cast<int>(args.get_int("block-size", 16, 1, 1024));
  const int max_num_seqs = static_cast<int>(args.get_int("max-num-seqs", 256, 1, 1 << 16));
  model::LoadOptions load;
  load.tokenizer_path = args.get_or("tokenizer", "");
  auto loaded = model::load_model(args.get_or("model", "models/stories260K"), load);
  if (!loaded.tokenizer) throw CliError("this model has no tokenizer: pass --tokenizer PATH");
  auto backend = kernels::make_backend(args.get_or("device", "cpu"));
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);

  std::vector<engine::GenerationRequest> requests;
  std::int64_t slots = 0;
  for (const auto& p : prompts) {
    requests.push_back({loaded.tokenizer->encode(p, true), sampling});
    slots += static_cast<std::int64_t>(requests.back().prompt_ids.size()) + sampling.max_tokens + block_size;
  }
  engine::GeneratorConfig config;
  config.blocks.block_size = block_size;
  const std::int64_t default_blocks = std::min<std::int64_t>(slots / block_size + 1, 1 << 20);
  config.blocks.num_gpu_blocks = static_cast<int>(args.get_int("num-blocks", default_blocks, 1, 1 << 24));
  config.blocks.watermark = 0;
  config.max_num_seqs = max_num_seqs;
  engine::Generator generator(llama, loaded.tokenizer.get(), config);
  auto results = generator.generate(requests);

  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& ids = requests[i].prompt_ids;
    std::string text = loaded.tokenizer->decode(ids.front(), {ids.begin() + 1, ids.end()}) + results[i].text;
    if (args.has("json")) {
      net::JsonWriter w;
      w.begin_object().key("prompt_ids").int_array(ids).key("output_ids").int_array(results[i].output_ids);
      w.field("text", text).field("finish_reason", results[i].finish_reason).end_object();
      std::printf("%s\n", w.str().c_str());
    } else {
      std::printf("%s\n%s", text.c_str(), i + 1 < results.size() ? "\n" : "");
    }
  }
  return 0;
}

}  // namespace pagedserve::cli
