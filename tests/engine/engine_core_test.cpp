// The whole engine loop in one thread with the real model (stories260K):
// greedy parity under preemption, sharing of n samples, beam search against
// a from-scratch reference, prefix caching, seeded sampling, and mixed sampling parameters in one batch.

#include "engine/engine_core.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "../model/reference_cases.hpp"
#include "engine/model_executor.hpp"
#include "model/loader.hpp"
#include "reference_beam.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

struct Outcome {
  std::map<int, std::vector<std::int32_t>> tokens;
  std::map<int, SampleFinished> finished;
  std::optional<RequestDone> done;
};

struct Run {
  std::map<std::string, Outcome> outcomes;
  int peak_gpu_blocks_used = 0;
  SchedulerCounters counters;
  memory::BlockManagerStats stats;
  int num_free_gpu_blocks = 0;
  std::size_t num_sampler_states = 0;  // left in the executor at the end
};

struct Fixture {
  model::LoadedModel loaded = model::load_model(testing::stories260k_dir());
  std::vector<testing::ReferenceCase> cases = testing::load_reference_cases();
  bool sample_on_backend = false;  // draw through Backend::sample (the GPU sampler's host twin on the CPU)

  EngineCoreConfig config(int num_gpu_blocks, int num_cpu_blocks, PreemptionMode mode, bool prefix_caching = true) {
    EngineCoreConfig c;
    c.blocks.block_size = 16;
    c.blocks.num_gpu_blocks = num_gpu_blocks;
    c.blocks.num_cpu_blocks = num_cpu_blocks;
    c.blocks.enable_prefix_caching = prefix_caching;
    c.blocks.watermark = 0;
    c.blocks.max_model_len = loaded.config.max_seq_len;
    c.scheduler.preemption_mode = mode;
    c.eos_ids = loaded.config.eos_ids;
    c.max_model_len = loaded.config.max_seq_len;
    return c;
  }

  GenerateRequest greedy(const std::string& id, const testing::ReferenceCase& c) {
    GenerateRequest r;
    r.request_id = id;
    r.prompt_ids = loaded.tokenizer->encode(c.prompt, true);
    r.sampling.temperature = 0;
    r.sampling.max_tokens = c.max_tokens();
    return r;
  }

  Run run(const EngineCoreConfig& config, const std::vector<GenerateRequest>& requests) {
    auto backend = kernels::make_backend("cpu");
    auto llama = std::make_unique<model::LlamaModel>(loaded.config, loaded.weights, *backend);
    ModelExecutor executor(std::move(backend), std::move(llama), config.blocks.num_gpu_blocks,
                           config.blocks.num_cpu_blocks, config.blocks.block_size);
    executor.set_sample_on_backend(sample_on_backend);
    EngineCore core(config, executor, loaded.tokenizer.get());
    Run run;
    std::vector<Event> events;
    for (const auto& r : requests) core.add(r, events);
    while (core.has_work()) {
      core.step(events);
      run.peak_gpu_blocks_used = std::max(run.peak_gpu_blocks_used, core.blocks().stats().gpu.num_used);
    }
    for (auto& e : events) {
      auto& o = run.outcomes[request_id_of(e)];
      if (auto* t = std::get_if<TokenEvent>(&e)) o.tokens[t->index].push_back(t->token_id);
      if (auto* f = std::get_if<SampleFinished>(&e)) o.finished[f->index] = *f;
      if (auto* d = std::get_if<RequestDone>(&e)) o.done = *d;
    }
    run.counters = core.scheduler().counters();
    run.stats = core.blocks().stats();
    run.num_free_gpu_blocks = core.blocks().num_free_gpu_blocks();
    run.num_sampler_states = executor.num_sampler_states();
    return run;
  }
};

void check_greedy_parity(PreemptionMode mode, bool sample_on_backend = false) {
  Fixture f;
  f.sample_on_backend = sample_on_backend;
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 20; ++i) requests.push_back(f.greedy("r" + std::to_string(i), f.cases[i % f.cases.size()]));
  // 20 sequences of up to 513 tokens in 48 blocks of 16 (768 slots).
  auto run = f.run(f.config(48, 200, mode), requests);
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i);
    CHECK(run.outcomes["r" + std::to_string(i)].tokens[0] == f.cases[i % f.cases.size()].output_ids);
    CHECK(run.outcomes["r" + std::to_string(i)].done.has_value());
  }
  if (mode == PreemptionMode::swap) CHECK(run.counters.num_preemptions_swap > 0);
  if (mode == PreemptionMode::recompute) CHECK(run.counters.num_preemptions_recompute > 0);
  CHECK(run.num_free_gpu_blocks == 48);
  CHECK(run.num_sampler_states == 0);
}

}  // namespace

TEST_CASE("20 greedy requests in a pool far too small match llama2.c exactly (recompute)", "[engine][parity]") {
  check_greedy_parity(PreemptionMode::recompute);
}

TEST_CASE("20 greedy requests in a pool far too small match llama2.c exactly (swap)", "[engine][parity]") {
  check_greedy_parity(PreemptionMode::swap);
}

TEST_CASE("drawn by the backend sampler, 20 greedy requests match llama2.c exactly (recompute)",
          "[engine][parity][backend_sampling]") {
  check_greedy_parity(PreemptionMode::recompute, true);
}

TEST_CASE("n = 4 samples of one prompt share its blocks: fewer blocks than 4 requests", "[engine][sharing]") {
  Fixture f;
  GenerateRequest r;
  r.prompt_ids = f.loaded.tokenizer->encode(f.cases[4].prompt + " and his friend went to the big park to play", true);
  r.sampling.temperature = 1.0f;
  r.sampling.seed = 42;
  r.sampling.max_tokens = 40;
  r.sampling.ignore_eos = true;
  const int prompt_blocks = static_cast<int>(r.prompt_ids.size()) / 16;
  REQUIRE(prompt_blocks >= 1);
  std::vector<GenerateRequest> separate;
  for (int i = 0; i < 4; ++i) {
    separate.push_back(r);
    separate.back().request_id = "s" + std::to_string(i);
    separate.back().sampling.seed = 42 + i;  // what sample i of n = 4 draws with
  }
  r.request_id = "shared";
  r.n = 4;
  auto shared = f.run(f.config(200, 0, PreemptionMode::recompute, false), {r});
  auto apart = f.run(f.config(200, 0, PreemptionMode::recompute, false), separate);
  // Same samples either way; the shared run holds the prompt's full blocks once.
  for (int i = 0; i < 4; ++i) CHECK(shared.outcomes["shared"].tokens[i] == apart.outcomes["s" + std::to_string(i)].tokens[0]);
  CHECK(shared.peak_gpu_blocks_used + 3 * prompt_blocks <= apart.peak_gpu_blocks_used);
  CHECK(shared.stats.num_cow_copies >= 3);  // the partly filled last prompt block
  CHECK(shared.num_free_gpu_blocks == 200);
  CHECK(shared.num_sampler_states == 0);
}

namespace {

void check_beam_search(bool sample_on_backend) {
  Fixture f;
  f.sample_on_backend = sample_on_backend;
  for (bool early : {false, true}) {
    for (int width : {2, 3}) {
      GenerateRequest r = f.greedy("beam", f.cases[1]);
      r.use_beam_search = true;
      r.n = 2;
      r.best_of = width;
      r.sampling.max_tokens = 14;
      r.length_penalty = 0.8f;
      r.early_stopping = early;
      auto run = f.run(f.config(64, 0, PreemptionMode::recompute), {r});
      auto backend = kernels::make_backend("cpu");
      model::LlamaModel llama(f.loaded.config, f.loaded.weights, *backend);
      testing::ReferenceBeamSearch reference(llama, *backend);
      auto expected = reference.run(r.prompt_ids, width, 2, 14, 0.8f, early, f.loaded.config.eos_ids);
      INFO("width " << width << " early_stopping " << early);
      REQUIRE(expected.size() == 2);
      for (int i = 0; i < 2; ++i) {
        CHECK(run.outcomes["beam"].tokens[i] == expected[i].output_ids);
        CHECK(run.outcomes["beam"].finished[i].cumulative_logprob == Approx(expected[i].cumulative_logprob).epsilon(1e-3));
      }
      CHECK(run.num_free_gpu_blocks == 64);
    }
  }
}

}  // namespace

TEST_CASE("beam search equals a from-scratch reference beam search", "[engine][beam]") { check_beam_search(false); }

TEST_CASE("beam search with candidates from the backend sampler equals the reference", "[engine][beam][backend_sampling]") {
  check_beam_search(true);
}

TEST_CASE("a repeated prompt hits the prefix cache and skips its prefill", "[engine][prefix]") {
  Fixture f;
  auto r = f.greedy("first", f.cases[5]);
  const auto& story = f.cases[5].output_ids;
  r.prompt_ids.insert(r.prompt_ids.end(), story.begin(), story.begin() + 40);  // 51 tokens: 3 full blocks
  r.sampling.max_tokens = 8;
  auto once = f.run(f.config(64, 0, PreemptionMode::recompute), {r});
  auto second = r;
  second.request_id = "second";
  // The second request arrives after the first one finished.
  auto backend = kernels::make_backend("cpu");
  auto llama = std::make_unique<model::LlamaModel>(f.loaded.config, f.loaded.weights, *backend);
  ModelExecutor executor(std::move(backend), std::move(llama), 64, 0, 16);
  EngineCore core(f.config(64, 0, PreemptionMode::recompute), executor, f.loaded.tokenizer.get());
  std::vector<Event> events;
  core.add(r, events);
  while (core.has_work()) core.step(events);
  const auto prefill_once = core.scheduler().counters().num_prefill_tokens;
  core.add(second, events);
  while (core.has_work()) core.step(events);
  const auto prefill_second = core.scheduler().counters().num_prefill_tokens - prefill_once;
  std::map<std::string, RequestDone> done;
  std::map<std::string, std::vector<std::int32_t>> tokens;
  for (auto& e : events) {
    if (auto* d = std::get_if<RequestDone>(&e)) done[d->request_id] = *d;
    if (auto* t = std::get_if<TokenEvent>(&e)) tokens[t->request_id].push_back(t->token_id);
  }
  const int prompt_len = static_cast<int>(r.prompt_ids.size());
  CHECK(done["first"].num_cached_prompt_tokens == 0);
  CHECK(done["second"].num_cached_prompt_tokens == 48);
  CHECK(prefill_once == prompt_len);
  CHECK(prefill_second == prompt_len - done["second"].num_cached_prompt_tokens);
  CHECK(core.blocks().stats().num_prefix_hits > 0);
  CHECK(tokens["second"] == tokens["first"]);
  CHECK(tokens["first"] == once.outcomes["first"].tokens[0]);
}

TEST_CASE("best_of returns the sample with the highest cumulative log-probability", "[engine][sharing]") {
  Fixture f;
  GenerateRequest r = f.greedy("best", f.cases[2]);
  r.sampling.temperature = 1.0f;
  r.sampling.seed = 7;
  r.sampling.max_tokens = 20;
  r.n = 1;
  r.best_of = 3;
  std::vector<GenerateRequest> singles;
  for (int i = 0; i < 3; ++i) {
    singles.push_back(r);
    singles.back().request_id = "single" + std::to_string(i);
    singles.back().best_of = 0;
    singles.back().sampling.seed = 7 + i;
  }
  auto best = f.run(f.config(64, 0, PreemptionMode::recompute), {r});
  auto each = f.run(f.config(64, 0, PreemptionMode::recompute), singles);
  int argmax = 0;
  for (int i = 1; i < 3; ++i)
    if (each.outcomes["single" + std::to_string(i)].finished[0].cumulative_logprob >
        each.outcomes["single" + std::to_string(argmax)].finished[0].cumulative_logprob)
      argmax = i;
  CHECK(best.outcomes["best"].tokens.size() == 1);
  CHECK(best.outcomes["best"].tokens[0] == each.outcomes["single" + std::to_string(argmax)].tokens[0]);
}

namespace {

void check_mixed_sampling(bool sample_on_backend) {
  Fixture f;
  f.sample_on_backend = sample_on_backend;
  auto with = [&](const std::string& id, int c, auto&& tweak) {
    GenerateRequest r = f.greedy(id, f.cases[static_cast<std::size_t>(c) % f.cases.size()]);
    r.sampling.max_tokens = 48;
    tweak(r.sampling);
    return r;
  };
  // A token greedy decoding of case 6 produces: stopping on it must end that story early.
  const auto story6 = f.run(f.config(256, 0, PreemptionMode::recompute), {with("s", 6, [](auto&) {})});
  const std::int32_t stop_token = story6.outcomes.at("s").tokens.at(0).at(10);
  const std::vector<GenerateRequest> requests = {
      with("greedy", 0, [](auto&) {}),
      with("hot", 1, [](auto& s) { s.temperature = 1.3f; s.seed = 11; }),
      with("top_k", 2, [](auto& s) { s.temperature = 0.8f; s.top_k = 5; s.seed = 12; }),
      with("top_p", 3, [](auto& s) { s.temperature = 1.0f; s.top_p = 0.7f; s.seed = 13; }),
      with("min_p", 4, [](auto& s) { s.temperature = 1.0f; s.min_p = 0.2f; s.seed = 14; }),
      with("penalties", 5, [](auto& s) {
        s.temperature = 0.9f; s.seed = 15; s.repetition_penalty = 1.3f; s.presence_penalty = 0.5f; s.frequency_penalty = 0.5f;
      }),
      with("stop_token", 6, [&](auto& s) { s.stop_token_ids = {stop_token}; }),
      with("logprobs", 7, [](auto& s) { s.logprobs = 3; s.ignore_eos = true; }),
  };
  auto together = f.run(f.config(256, 0, PreemptionMode::recompute), requests);
  for (const auto& r : requests) {
    INFO(r.request_id);
    auto alone = f.run(f.config(256, 0, PreemptionMode::recompute), {r});
    const auto& got = together.outcomes[r.request_id];
    CHECK(got.tokens.at(0) == alone.outcomes[r.request_id].tokens.at(0));
    CHECK(got.finished.at(0).finish_reason == alone.outcomes[r.request_id].finished.at(0).finish_reason);
    CHECK(got.finished.at(0).cumulative_logprob == Approx(alone.outcomes[r.request_id].finished.at(0).cumulative_logprob));
    auto plain = f.run(f.config(256, 0, PreemptionMode::recompute), {with("plain", &r - requests.data(), [](auto&) {})});
    const bool same_as_greedy = got.tokens.at(0) == plain.outcomes["plain"].tokens.at(0);
    // Logprobs are reported, not sampled with: those two decode greedily.
    if (r.request_id == "greedy" || r.request_id == "logprobs") CHECK(same_as_greedy);
    else CHECK_FALSE(same_as_greedy);  // the parameter took effect
  }
}

}  // namespace

TEST_CASE("mixed sampling parameters in one batch: each request draws what it draws alone", "[engine][sampling]") {
  check_mixed_sampling(false);
}

TEST_CASE("drawn by the backend sampler, mixed sampling parameters in one batch draw what each draws alone",
          "[engine][sampling][backend_sampling]") {
  check_mixed_sampling(true);
}

TEST_CASE("drawn by the backend sampler, seeded requests preempted by recompute draw what they draw unpreempted",
          "[engine][sampling][backend_sampling]") {
  Fixture f;
  f.sample_on_backend = true;
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(f.greedy("r" + std::to_string(i), f.cases[i % f.cases.size()]));
    requests.back().sampling.temperature = 0.8f;
    requests.back().sampling.top_p = 0.9f;
    requests.back().sampling.seed = 100 + i;
  }
  auto tight = f.run(f.config(48, 0, PreemptionMode::recompute), requests);
  auto roomy = f.run(f.config(1024, 0, PreemptionMode::recompute), requests);
  CHECK(tight.counters.num_preemptions_recompute > 0);
  CHECK(roomy.counters.num_preemptions_recompute == 0);
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i);
    const auto id = "r" + std::to_string(i);
    CHECK(tight.outcomes[id].tokens[0] == roomy.outcomes[id].tokens[0]);
    CHECK(tight.outcomes[id].tokens[0] != f.cases[i % f.cases.size()].output_ids);  // it did sample
  }
}
