// The forward pass against llama.cpp, an implementation nobody here wrote:
// each supported architecture as a tiny random-weight Hugging Face
// directory, exported with `pagedserve export-gguf`, decoded greedily for
// 48 steps over several prompts by llama.cpp (node-llama-cpp's prebuilt
// binary, fed token ids) and by pagedserve (CPU backend, all prompts in one
// batch, block sizes 1 and 16).
//
// Tokens must be equal. Where llama.cpp's best two log-probabilities are
// within kNearTie the two engines may rightly pick differently (float sums
// in a different order); there the rest of that prompt is not compared,
// and the numbers themselves must still agree: pagedserve's
// log-probabilities (log-softmax of its logits) along llama.cpp's tokens
// must be within kLogprobTolerance of llama.cpp's, for every vocabulary
// entry at every step. The tiny checkpoints' weights (embeddings U(-1, 1),
// matrices U(-1.5, 1.5)/sqrt(fan-in)) spread the logits over several
// units, so near-ties are rare. llama.cpp runs with f32 K/V and without
// flash attention (tools/llamacpp/oracle.mjs): its f16 paths alone move
// log-probabilities by about 1e-2.

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/run_command.hpp"
#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "llamacpp_oracle.hpp"
#include "model/loader.hpp"
#include "stepwise_logits.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;

namespace {

constexpr int kSteps = 48;
constexpr float kNearTie = 1e-3f;
constexpr double kLogprobTolerance = 1e-4;

std::vector<double> log_softmax(const std::vector<float>& logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(l - top);
  std::vector<double> out;
  for (float l : logits) out.push_back(l - top - std::log(sum));
  return out;
}

// pagedserve's greedy outputs for every prompt, decoded together.
std::vector<std::vector<std::int32_t>> pagedserve_greedy(model::LlamaModel& m, const std::vector<std::vector<std::int32_t>>& prompts,
                                                         int block_size) {
  engine::GeneratorConfig config;
  config.blocks.block_size = block_size;
  config.blocks.num_gpu_blocks = static_cast<int>(prompts.size()) * (200 / block_size + 2);
  engine::Generator gen(m, nullptr, config);
  std::vector<engine::GenerationRequest> requests;
  for (const auto& p : prompts) {
    engine::GenerationRequest r;
    r.prompt_ids = p;
    r.params.temperature = 0;
    r.params.max_tokens = kSteps;
    r.params.ignore_eos = true;
    requests.push_back(r);
  }
  std::vector<std::vector<std::int32_t>> out;
  for (auto& r : gen.generate(requests)) out.push_back(r.output_ids);
  CHECK(gen.stats().max_running == static_cast<int>(prompts.size()));  // really batched
  return out;
}

struct Agreement {
  int steps_equal = 0, near_ties = 0;
  double worst_logprob_difference = 0;
};

// pagedserve's log-probabilities along llama.cpp's tokens, against llama.cpp's.
double logprob_difference(model::LlamaModel& m, const std::vector<std::int32_t>& prompt, const testing::OracleDecode& ref) {
  auto tokens = prompt;
  tokens.insert(tokens.end(), ref.tokens.begin(), ref.tokens.end() - 1);
  const auto rows = testing::stepwise_logits(m, tokens, static_cast<int>(prompt.size()), 16);
  double worst = 0;
  for (int s = 0; s < kSteps; ++s) {
    const auto mine = log_softmax(rows[prompt.size() - 1 + s]);
    REQUIRE(mine.size() == ref.logprobs[s].size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (std::isinf(ref.logprobs[s][i])) CHECK(mine[i] < -80);  // below float's smallest probability
      else worst = std::max(worst, std::abs(mine[i] - ref.logprobs[s][i]));
    }
  }
  return worst;
}

void compare_tokens(const std::vector<std::int32_t>& mine, const testing::OracleDecode& ref, Agreement& a) {
  REQUIRE(mine.size() == static_cast<std::size_t>(kSteps));
  for (int s = 0; s < kSteps; ++s) {
    if (mine[s] == ref.tokens[s]) {
      ++a.steps_equal;
      continue;
    }
    const auto& row = ref.logprobs[s];
    INFO("step " << s << ": llama.cpp " << ref.tokens[s] << " (" << row[ref.tokens[s]] << "), pagedserve " << mine[s]
                 << " (" << row[mine[s]] << ")");
    CHECK(row[ref.tokens[s]] - row[mine[s]] < kNearTie);
    ++a.near_ties;
    return;  // the continuations differ from here on, rightly
  }
}

void check_against_llamacpp(const std::string& model_dir, const std::string& gguf, const std::vector<std::vector<std::int32_t>>& prompts,
                            const std::string& what) {
  const auto exported = testing::run_pagedserve("export-gguf --model " + model_dir + " --out " + gguf);
  INFO(exported.output);
  REQUIRE(exported.exit_code == 0);
  const auto reference = testing::llamacpp_greedy(gguf, prompts, kSteps);
  REQUIRE(reference.size() == prompts.size());
  auto loaded = model::load_model(model_dir);
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel m(loaded.config, loaded.weights, *backend);
  Agreement a;
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    INFO(what << ", prompt " << p << " of " << prompts[p].size() << " tokens");
    a.worst_logprob_difference = std::max(a.worst_logprob_difference, logprob_difference(m, prompts[p], reference[p]));
    const auto& first = reference[p].logprobs[0];  // the oracle decodes greedily
    CHECK(std::max_element(first.begin(), first.end()) - first.begin() == reference[p].tokens[0]);
  }
  for (int block_size : {1, 16}) {
    const auto mine = pagedserve_greedy(m, prompts, block_size);
    for (std::size_t p = 0; p < prompts.size(); ++p) {
      INFO(what << ", block size " << block_size << ", prompt " << p);
      compare_tokens(mine[p], reference[p], a);
    }
  }
  std::printf("%s: %d of %zu greedy steps equal to llama.cpp, %d near-ties; largest log-probability difference %.2g\n",
              what.c_str(), a.steps_equal, 2 * prompts.size() * kSteps, a.near_ties, a.worst_logprob_difference);
  CHECK(a.worst_logprob_difference < kLogprobTolerance);
  CHECK(a.near_ties <= 2);  // one prompt at both block sizes; more: the weights no longer separate the logits
}

std::vector<std::vector<std::int32_t>> tiny_prompts(int vocab) {
  std::vector<std::vector<std::int32_t>> prompts;
  unsigned seed = 11;
  for (int length : {1, 6, 17, 40}) prompts.push_back(testing::random_prompt(length, vocab, seed++));
  return prompts;
}

// A SentencePiece-style tokenizer.json of `vocab` ids: <unk> <s> </s>, the
// 256 byte tokens, then one-letter pieces and their pairs. llama.cpp's
// SentencePiece tokenizer needs the byte tokens for any character it lacks
// (node-llama-cpp tokenizes a newline while loading).
std::string byte_fallback_tokenizer_json(int vocab) {
  std::string pieces = R"("<unk>":0,"<s>":1,"</s>":2)";
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    pieces += ",\"" + std::string(name) + "\":" + std::to_string(3 + b);
  }
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  for (int id = 259; id < vocab; ++id) {
    const int n = id - 259;
    const std::string piece = n < 26 ? letters.substr(n, 1) : letters.substr(n % 26, 1) + letters.substr(n / 26 - 1, 1);
    pieces += ",\"" + piece + "\":" + std::to_string(id);
  }
  return R"({"added_tokens":[],"model":{"type":"BPE","vocab":{)" + pieces + R"(},"merges":[]}})";
}

void check_tiny(testing::TinySpec spec, const std::string& name) {
  spec.vocab = 320;
  const auto dir = testing::temp_dir("oracle-" + name);
  testing::write_tiny_hf(testing::make_tiny_checkpoint(spec), dir);
  std::ofstream(dir + "/tokenizer.json") << byte_fallback_tokenizer_json(spec.vocab);
  check_against_llamacpp(dir, dir + "/model.gguf", tiny_prompts(spec.vocab), name);
  std::filesystem::remove_all(dir);
}

}  // namespace

TEST_CASE("Llama matches llama.cpp greedy for 48 steps", "[llamacpp]") { check_tiny(testing::TinySpec{}, "llama"); }

TEST_CASE("Llama 3 with rope scaling and tied embeddings matches llama.cpp greedy for 48 steps", "[llamacpp]") {
  auto spec = testing::tiny_llama3();
  spec.tied = true;
  check_tiny(spec, "llama3-tied");
}

TEST_CASE("Qwen2 with q/k/v biases matches llama.cpp greedy for 48 steps", "[llamacpp]") {
  check_tiny(testing::tiny_qwen2(), "qwen2");
}

TEST_CASE("Qwen3 with q/k norms matches llama.cpp greedy for 48 steps", "[llamacpp]") {
  check_tiny(testing::tiny_qwen3(), "qwen3");
}

TEST_CASE("stories260K matches llama.cpp greedy for 48 steps through its GGUF export", "[llamacpp]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  std::vector<std::vector<std::int32_t>> prompts = {{1}, loaded.tokenizer->encode("Once upon a time, there was a", true),
                                                    loaded.tokenizer->encode("Lily and Tom went to the park", true)};
  const auto dir = testing::temp_dir("oracle-stories260K");
  check_against_llamacpp(testing::stories260k_dir(), dir + "/stories260K.gguf", prompts, "stories260K");
  std::filesystem::remove_all(dir);
}
