// Grammar masks computed beside the forward pass (ModelExecutor's mask
// thread) against the same masks computed after it on the executor thread:
// the whole engine loop on stories260K draws exactly the same tokens for a
// batch that mixes constrained requests (n = 1, n > 1, best_of) with
// unconstrained ones (sampled, greedy, beam search), in a roomy pool and in
// one that preempts by recompute (matchers replayed), with host and
// backend sampling. A batch without constraints starts no mask thread.

#include <catch2/catch.hpp>

#include <map>
#include <regex>

#include "../model/reference_cases.hpp"
#include "engine/engine_core.hpp"
#include "engine/model_executor.hpp"
#include "model/loader.hpp"
#include "model/token_vocabulary.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

constexpr const char* kPattern = "(([a-z]{1,8}|[0-9]{2}) ){12,20}(the end|[A-Z][a-z]+)\\.";

struct Outputs {
  std::map<std::string, std::map<int, std::vector<std::int32_t>>> tokens;  // request, sample index
  std::map<std::string, std::map<int, std::string>> text;
  std::int64_t num_preemptions = 0;
  std::uint64_t num_overlapped_mask_steps = 0;
  std::size_t num_sampler_states = 0;  // left in the executor at the end
};

struct Fixture {
  model::LoadedModel loaded = model::load_model(testing::stories260k_dir());

  GenerateRequest request(const std::string& id, std::uint64_t seed, bool constrained) const {
    GenerateRequest r;
    r.request_id = id;
    r.prompt_ids = loaded.tokenizer->encode("Once upon a time", true);
    r.sampling.temperature = 1;
    r.sampling.seed = seed;
    r.sampling.max_tokens = constrained ? 200 : 60;  // the regex ends within 190 tokens
    if (constrained) r.sampling.constraint = {"regex", kPattern};
    return r;
  }

  std::vector<GenerateRequest> mixed_batch() const {
    std::vector<GenerateRequest> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(request("c" + std::to_string(i), static_cast<std::uint64_t>(i), true));
    batch.push_back(request("c_n3", 10, true));
    batch.back().n = 3;
    batch.push_back(request("c_best", 20, true));
    batch.back().n = 2;
    batch.back().best_of = 3;
    batch.push_back(request("plain", 30, false));
    batch.back().sampling.ignore_eos = true;
    batch.push_back(request("greedy", 40, false));
    batch.back().sampling.temperature = 0;
    batch.push_back(request("beam", 50, false));
    batch.back().sampling.temperature = 0;
    batch.back().sampling.max_tokens = 30;
    batch.back().use_beam_search = true;
    batch.back().n = 2;
    batch.back().best_of = 3;
    return batch;
  }

  EngineCoreConfig config(int num_gpu_blocks) const {
    EngineCoreConfig c;
    c.blocks.block_size = 16;
    c.blocks.num_gpu_blocks = num_gpu_blocks;
    c.blocks.watermark = 0;
    c.blocks.max_model_len = loaded.config.max_seq_len;
    c.scheduler.preemption_mode = PreemptionMode::recompute;
    c.eos_ids = loaded.config.eos_ids;
    c.max_model_len = loaded.config.max_seq_len;
    return c;
  }

  Outputs run(const std::vector<GenerateRequest>& requests, int num_gpu_blocks, bool overlap, bool on_backend = false) const {
    auto backend = kernels::make_backend("cpu");
    auto llama = std::make_unique<model::LlamaModel>(loaded.config, loaded.weights, *backend);
    ModelExecutor executor(std::move(backend), std::move(llama), num_gpu_blocks, 0, 16);
    executor.set_vocabulary(model::grammar_vocabulary(*loaded.tokenizer, loaded.config.vocab_size, loaded.config.eos_ids));
    executor.set_overlap_masks(overlap);
    executor.set_sample_on_backend(on_backend);
    EngineCore core(config(num_gpu_blocks), executor, loaded.tokenizer.get());
    std::vector<Event> events;
    for (const auto& r : requests) core.add(r, events);
    while (core.has_work()) core.step(events);
    Outputs out;
    for (auto& e : events) {
      if (auto* t = std::get_if<TokenEvent>(&e)) {
        out.tokens[t->request_id][t->index].push_back(t->token_id);
        out.text[t->request_id][t->index] += t->text;
      }
      if (auto* f = std::get_if<SampleFinished>(&e)) REQUIRE(f->error.empty());
    }
    out.num_preemptions = core.scheduler().counters().num_preemptions_recompute;
    out.num_overlapped_mask_steps = executor.num_overlapped_mask_steps();
    out.num_sampler_states = executor.num_sampler_states();
    return out;
  }
};

void check_constrained_texts(const Outputs& out) {
  const std::regex reference(kPattern, std::regex::ECMAScript);
  int checked = 0;
  for (const auto& [id, samples] : out.text) {
    if (id[0] != 'c') continue;
    for (const auto& [index, text] : samples) {
      INFO(id << " sample " << index << ": " << text);
      CHECK(std::regex_match(text, reference));
      ++checked;
    }
  }
  CHECK(checked == 10 + 3 + 2);
}

}  // namespace

TEST_CASE("overlapped masks draw the serial tokens: constrained, n > 1, best_of and beam search in one batch",
          "[engine][grammar][overlap]") {
  Fixture f;
  const auto batch = f.mixed_batch();
  const Outputs serial = f.run(batch, 400, false);
  const Outputs overlapped = f.run(batch, 400, true);
  CHECK(serial.num_overlapped_mask_steps == 0);
  CHECK(overlapped.num_overlapped_mask_steps > 0);
  CHECK(serial.num_preemptions == 0);
  CHECK(overlapped.tokens == serial.tokens);
  check_constrained_texts(overlapped);
  CHECK(overlapped.tokens.at("beam").size() == 2);
  CHECK(overlapped.num_sampler_states == 0);
}

TEST_CASE("overlapped masks under recompute preemption draw the tokens of an unpreempted serial run",
          "[engine][grammar][overlap]") {
  Fixture f;
  const auto batch = f.mixed_batch();
  const Outputs serial = f.run(batch, 400, false);
  const Outputs tight = f.run(batch, 44, true);  // n = 3 of 200 tokens need 43
  CHECK(tight.num_preemptions > 0);
  CHECK(tight.num_overlapped_mask_steps > 0);
  CHECK(tight.tokens == serial.tokens);
  CHECK(tight.num_sampler_states == 0);
}

TEST_CASE("overlapped masks drawn by the backend sampler match its serial draws", "[engine][grammar][overlap][backend_sampling]") {
  Fixture f;
  const auto batch = f.mixed_batch();
  const Outputs serial = f.run(batch, 400, false, true);
  const Outputs overlapped = f.run(batch, 400, true, true);
  CHECK(overlapped.num_overlapped_mask_steps > 0);
  CHECK(overlapped.tokens == serial.tokens);
  check_constrained_texts(overlapped);
}

TEST_CASE("a batch without constraints never wakes the mask thread", "[engine][grammar][overlap]") {
  Fixture f;
  auto batch = f.mixed_batch();
  std::erase_if(batch, [](const GenerateRequest& r) { return !r.sampling.constraint.empty(); });
  REQUIRE(batch.size() == 3);
  const Outputs out = f.run(batch, 400, true);
  CHECK(out.num_overlapped_mask_steps == 0);
  CHECK(out.tokens.at("plain").at(0).size() == 60);
}
