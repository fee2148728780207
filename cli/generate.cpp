// `pagedserve generate`: runs prompts concurrently through the engine (the
// actor runtime, as the server does) and prints the stories (or one JSON
// line per prompt).

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include "actors/engine_start.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/commands.hpp"
#include "model/loader.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kUsage = R"(usage: pagedserve generate [MODEL] [options]

  --prompt TEXT          a prompt; repeat for several (run concurrently)
  --prompts-file FILE    one prompt per line
  --max-tokens N         new tokens per prompt (default 256)
  --temperature T        0 = greedy (default: the model's generation_config.json, else 1.0)
  --top-p P  --top-k K  --min-p M  --seed S
  --repetition-penalty R  --presence-penalty P  --frequency-penalty F
  --stop STR             stop string (repeatable)   --ignore-eos
  --n N                  samples per prompt (default 1)
  --best-of N            samples generated per prompt; the n most likely are kept
  --use-beam-search      beam search of width best-of (or n); greedy
  --json                 one line per prompt: {"prompt_ids", "output_ids", "text"}
                         where text is the prompt and its continuation as printed
                         (with n > 1, "outputs" lists every sample)
Every boolean flag also takes --no-FLAG and --FLAG true|false.

engine settings (as for serve; --num-gpu-blocks 0 sizes the pool for the prompts):
)";

std::string help_text() { return kUsage + alias_help() + settings_help(SettingScope::engine); }

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

// Flags left out take the model's generation_config.json values.
model::SamplingParams read_sampling(const Args& args, const model::SamplingParams& defaults) {
  model::SamplingParams p = defaults;
  p.max_tokens = static_cast<int>(args.get_int("max-tokens", 256, 0, 1 << 20));
  p.temperature = static_cast<float>(args.get_double("temperature", defaults.temperature, 0, 100));
  p.top_p = static_cast<float>(args.get_double("top-p", defaults.top_p, 0, 1));
  p.top_k = static_cast<int>(args.get_int("top-k", defaults.top_k, -1, 1 << 20));
  p.min_p = static_cast<float>(args.get_double("min-p", defaults.min_p, 0, 1));
  p.repetition_penalty = static_cast<float>(args.get_double("repetition-penalty", defaults.repetition_penalty, 0, 10));
  p.presence_penalty = static_cast<float>(args.get_double("presence-penalty", 0, -2, 2));
  p.frequency_penalty = static_cast<float>(args.get_double("frequency-penalty", 0, -2, 2));
  if (args.has("seed")) p.seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, INT64_MAX));
  p.stop = args.get_all("stop");
  p.ignore_eos = args.flag("ignore-eos");
  try {
    p.validate();
  } catch (const model::InvalidParam& e) {
    throw CliError(e.what());
  }
  return p;
}

const std::set<std::string> kOwnFlags = {"prompt", "prompts-file", "max-tokens", "temperature", "top-p", "top-k",
                                         "min-p", "seed", "repetition-penalty", "presence-penalty", "frequency-penalty",
                                         "stop", "ignore-eos", "json", "n", "best-of", "use-beam-search"};

struct Sample {
  std::vector<std::int32_t> output_ids;
  std::string text;
  std::string finish_reason;
  std::string error;
};

// Requests not yet done; shared with the sinks, which may outlive a caller
// that gave up.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0;
};

// Collects one prompt's samples.
class Collector final : public actors::RequestSink {
 public:
  explicit Collector(std::shared_ptr<Completion> completion) : completion_(std::move(completion)) {}
  void on_token(const actors::TokenEvent& e) override {
    std::lock_guard lock(completion_->mu);
    samples[e.index].output_ids.push_back(e.token_id);
    samples[e.index].text += e.text;
  }
  void on_sample_finished(const actors::SampleFinished& e) override {
    std::lock_guard lock(completion_->mu);
    samples[e.index].finish_reason = e.finish_reason;
    samples[e.index].error = e.error;
  }
  void on_done(const actors::RequestDone&) override {
    std::lock_guard lock(completion_->mu);
    --completion_->pending;
    completion_->cv.notify_all();
  }
  std::map<int, Sample> samples;  // read after the request is done

 private:
  std::shared_ptr<Completion> completion_;
};

actors::GenerateRequest make_request(const Args& args, std::size_t i, std::vector<std::int32_t> prompt_ids,
                                     const model::SamplingParams& sampling) {
  actors::GenerateRequest r;
  r.request_id = "prompt-" + std::to_string(i);
  r.prompt_ids = std::move(prompt_ids);
  r.sampling = sampling;
  r.n = static_cast<int>(args.get_int("n", 1, 1, 1 << 10));
  r.best_of = static_cast<int>(args.get_int("best-of", 0, 0, 1 << 10));
  r.use_beam_search = args.flag("use-beam-search");
  return r;
}

// Submits every request at once and waits until all are done.
std::vector<std::shared_ptr<Collector>> run_all(actors::Engine& engine, const std::vector<actors::GenerateRequest>& requests) {
  auto completion = std::make_shared<Completion>();
  std::vector<std::shared_ptr<Collector>> results;
  for (const auto& r : requests) {
    results.push_back(std::make_shared<Collector>(completion));
    {
      std::lock_guard lock(completion->mu);
      ++completion->pending;
    }
    auto submitted = engine.submit(r, results.back());
    if (!submitted.ok()) throw std::runtime_error(submitted.message);
  }
  std::unique_lock lock(completion->mu);
  completion->cv.wait(lock, [&] { return completion->pending == 0; });
  return results;
}

void print_result(const Args& args, const model::Tokenizer& tok, const std::vector<std::int32_t>& ids,
                  const std::map<int, Sample>& samples, bool last) {
  const std::string prompt_text = tok.decode(ids.front(), {ids.begin() + 1, ids.end()});
  const Sample& first = samples.begin()->second;
  if (args.flag("json")) {
    net::JsonWriter w;
    w.begin_object().key("prompt_ids").int_array(ids).key("output_ids").int_array(first.output_ids);
    w.field("text", prompt_text + first.text).field("finish_reason", first.finish_reason);
    if (samples.size() > 1) {
      w.key("outputs").begin_array();
      for (const auto& [index, s] : samples) {
        w.begin_object().key("output_ids").int_array(s.output_ids).field("text", prompt_text + s.text);
        w.field("finish_reason", s.finish_reason).end_object();
      }
      w.end_array();
    }
    w.end_object();
    std::printf("%s\n", w.str().c_str());
    return;
  }
  std::size_t k = 0;
  for (const auto& [index, s] : samples)
    std::printf("%s\n%s", (prompt_text + s.text).c_str(), last && ++k == samples.size() ? "" : "\n");
}

}  // namespace

int run_generate(int argc, char** argv) {
  auto flags = boolean_setting_flags();
  flags.insert({"json", "ignore-eos", "use-beam-search"});
  Args args(argc, argv, flags);
  if (args.answered_help(help_text())) return 0;
  auto known = setting_flags(SettingScope::engine);
  known.insert(kOwnFlags.begin(), kOwnFlags.end());
  args.reject_unknown(known, 1);
  const auto prompts = read_prompts(args);
  read_sampling(args, model::SamplingParams{});  // bad flags are refused (exit 2) before a model loads
  auto config = engine_config(read_settings(args, SettingScope::engine));
  model::LoadOptions load;
  load.tokenizer_path = config.tokenizer;
  auto loaded = model::load_model(config.model, load);
  const auto sampling = read_sampling(args, loaded.config.generation.sampling());
  if (!loaded.tokenizer) throw CliError("this model has no tokenizer: pass --tokenizer PATH");

  // By default the pool holds every prompt once and every sample's tokens.
  std::vector<actors::GenerateRequest> requests;
  const std::int64_t bs = config.block_size;
  std::int64_t default_blocks = 1;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    requests.push_back(make_request(args, i, loaded.tokenizer->encode(prompts[i], true), sampling));
    const auto& r = requests.back();
    const std::int64_t width = std::max(r.n, r.best_of);
    default_blocks += (static_cast<std::int64_t>(r.prompt_ids.size()) + bs - 1) / bs +
                      width * ((sampling.max_tokens + bs - 1) / bs + 1);
  }
  // Room for the watermark too, so that every prompt is admitted at once.
  default_blocks = static_cast<std::int64_t>(std::ceil(static_cast<double>(default_blocks) / (1 - config.watermark))) + 1;
  if (config.num_gpu_blocks == 0) config.num_gpu_blocks = static_cast<int>(std::min<std::int64_t>(default_blocks, 1 << 20));
  config.max_waiting_requests = static_cast<int>(requests.size()) + 1;
  config.max_n = 1 << 10;
  auto engine = actors::start_engine(config, std::move(loaded));

  auto results = run_all(*engine, requests);
  for (std::size_t i = 0; i < results.size(); ++i) {
    for (const auto& [index, s] : results[i]->samples)
      if (!s.error.empty()) throw std::runtime_error(s.error);
    print_result(args, engine->tokenizer(), requests[i].prompt_ids, results[i]->samples, i + 1 == results.size());
  }
  return 0;
}

}  // namespace pagedserve::cli
