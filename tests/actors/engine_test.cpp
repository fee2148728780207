// The Engine facade over the real actor runtime with the embedded model:
// concurrent greedy requests through a pool far too small (swap and
// recompute), sharing, beam search, prefix caching, cancel, refusals,
// admin views and shutdown.

#include "actors/engine.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>

#include "../engine/reference_beam.hpp"
#include "../model/reference_cases.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"

using namespace pagedserve;
using namespace pagedserve::actors;

namespace {

// Records every event; events arrive on an actor thread.
class Recorder final : public RequestSink {
 public:
  void on_token(const TokenEvent& e) override {
    std::lock_guard lock(mu_);
    tokens_[e.index].push_back(e.token_id);
    text_[e.index] += e.text;
    cv_.notify_all();
  }
  void on_sample_finished(const SampleFinished& e) override {
    std::lock_guard lock(mu_);
    finished_[e.index] = e;
  }
  void on_done(const RequestDone& e) override {
    std::lock_guard lock(mu_);
    done_ = e;
    cv_.notify_all();
  }
  bool wait_done(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_.has_value(); });
  }
  bool wait_tokens(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return tokens_[0].size() >= n || done_; });
  }
  std::vector<std::int32_t> tokens(int index = 0) {
    std::lock_guard lock(mu_);
    return tokens_[index];
  }
  SampleFinished finished(int index = 0) {
    std::lock_guard lock(mu_);
    return finished_[index];
  }
  RequestDone done() {
    std::lock_guard lock(mu_);
    return *done_;
  }
  int num_samples() {
    std::lock_guard lock(mu_);
    return static_cast<int>(finished_.size());
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::vector<std::int32_t>> tokens_;
  std::map<int, std::string> text_;
  std::map<int, SampleFinished> finished_;
  std::optional<RequestDone> done_;
};

EngineConfig small_config(int num_gpu_blocks, PreemptionMode mode = PreemptionMode::recompute) {
  EngineConfig c;
  c.model = testing::stories260k_dir();
  c.num_gpu_blocks = num_gpu_blocks;
  c.swap_space_gib = 0.05;
  c.preemption_mode = mode;
  c.watermark = 0;
  return c;
}

GenerateRequest greedy(const std::string& id, const testing::ReferenceCase& c) {
  GenerateRequest r;
  r.request_id = id;
  r.prompt_ids = c.prompt_ids;
  r.sampling.temperature = 0;
  r.sampling.max_tokens = c.max_tokens();
  return r;
}

std::shared_ptr<Recorder> submit_ok(Engine& engine, GenerateRequest r) {
  auto rec = std::make_shared<Recorder>();
  auto result = engine.submit(std::move(r), rec);
  INFO(result.message);
  REQUIRE(result.ok());
  return rec;
}

void check_parity_under_pressure(PreemptionMode mode, int tensor_parallel_size = 1, int pipeline_parallel_size = 1) {
  auto cases = testing::load_reference_cases();
  auto config = small_config(48, mode);
  config.tensor_parallel_size = tensor_parallel_size;
  config.pipeline_parallel_size = pipeline_parallel_size;
  auto engine = Engine::start(config);
  std::vector<std::shared_ptr<Recorder>> recs;
  for (int i = 0; i < 20; ++i)
    recs.push_back(submit_ok(*engine, greedy("r" + std::to_string(i), cases[i % cases.size()])));
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i);
    REQUIRE(recs[i]->wait_done());
    CHECK(recs[i]->tokens() == cases[i % cases.size()].output_ids);
  }
  auto m = engine->metrics();
  if (mode == PreemptionMode::swap) CHECK(m.num_preemptions_swap > 0);
  if (mode == PreemptionMode::recompute) CHECK(m.num_preemptions_recompute > 0);
  CHECK(m.gpu_blocks_used == 0);  // every block free or cached-evictable
  CHECK(m.cpu_blocks_used == 0);
  CHECK(m.requests_finished == 20);
  CHECK(m.num_running + m.num_waiting + m.num_swapped == 0);
}

}  // namespace

TEST_CASE("20 concurrent greedy requests in a tiny pool match llama2.c exactly (swap)", "[actors][parity]") {
  check_parity_under_pressure(PreemptionMode::swap);
}

TEST_CASE("20 concurrent greedy requests in a tiny pool match llama2.c exactly (recompute)", "[actors][parity]") {
  check_parity_under_pressure(PreemptionMode::recompute);
}

// stories260K has 4 KV heads: 2 and 4 ranks split them evenly.
TEST_CASE("tensor parallel over 2 and 4 ranks matches llama2.c exactly under swap and recompute", "[actors][parity][tp]") {
  for (int tp : {2, 4}) {
    INFO("tensor parallel size " << tp);
    check_parity_under_pressure(PreemptionMode::swap, tp);
    check_parity_under_pressure(PreemptionMode::recompute, tp);
  }
}


// stories260K has 5 layers: 2 stages of 3 and 2 layers, 5 stages of one.
TEST_CASE("pipeline parallel over 2 and 5 stages matches llama2.c exactly under swap and recompute", "[actors][parity][pp]") {
  for (int pp : {2, 5}) {
    INFO("pipeline parallel size " << pp);
    check_parity_under_pressure(PreemptionMode::swap, 1, pp);
    check_parity_under_pressure(PreemptionMode::recompute, 1, pp);
  }
}

TEST_CASE("tensor parallel 2 x pipeline parallel 2 matches llama2.c exactly under swap and recompute", "[actors][parity][pp][tp]") {
  check_parity_under_pressure(PreemptionMode::swap, 2, 2);
  check_parity_under_pressure(PreemptionMode::recompute, 2, 2);
}

TEST_CASE("a split the model or the build cannot run is refused by name", "[actors][tp][pp]") {
  struct Refused {
    int tp, pp;
    std::string device, executor, reason;
  };
  // GPUs from cuda:1000 on: no host has them. TP 2 also needs NCCL, which
  // a host may lack: either is refused after the same words.
  const bool cuda = kernels::available_backends().find("cuda") != std::string::npos;
  const std::string no_cuda = "device 'cuda:1000': this build has no CUDA backend";
  const Refused cases[] = {
      {3, 1, "cpu", "", "KV heads (4) is not divisible by the tensor-parallel size 3"},
      {2, 1, "cuda:1000", "", cuda ? "--device cuda:1000 with --tensor-parallel-size 2 needs " : no_cuda},
      {1, 6, "cpu", "", "--pipeline-parallel-size 6 exceeds the model's 5 layers"},
      {1, 2, "cuda:1000", "",
       cuda ? "--device cuda:1000 with --pipeline-parallel-size 2 needs 2 GPUs, one a rank (cuda:1000 to cuda:1001)"
            : no_cuda},
      {1, 2, "mps", "", "runs on --device cpu or cuda in this build, not 'mps'"},
      {1, 2, "cpu", "127.0.0.1:1", "--pipeline-parallel-size 2 needs 2 workers"},
  };
  {
    auto config = small_config(48);
    config.tensor_parallel_size = 2;
    config.executors = {"127.0.0.1:1", "127.0.0.1:1"};
    CHECK_THROWS_WITH(Engine::start(config), Catch::Contains("--executor 127.0.0.1:1 is given twice"));
  }
  for (const auto& c : cases) {
    INFO(c.reason);
    auto config = small_config(48);
    config.tensor_parallel_size = c.tp;
    config.pipeline_parallel_size = c.pp;
    config.device = c.device;
    if (!c.executor.empty()) config.executors = {c.executor};
    CHECK_THROWS_WITH(Engine::start(config), Catch::Contains(c.reason));
  }
}

TEST_CASE("n = 4 over one prompt takes measurably fewer blocks than 4 requests", "[actors][sharing]") {
  auto cases = testing::load_reference_cases();
  GenerateRequest r = greedy("shared", cases[4]);
  const auto& story = cases[4].output_ids;
  r.prompt_ids.insert(r.prompt_ids.end(), story.begin(), story.begin() + 60);  // 72 tokens: 4 full blocks
  r.sampling.temperature = 1.0f;
  r.sampling.seed = 3;
  r.sampling.max_tokens = 30;
  r.sampling.ignore_eos = true;
  auto config = small_config(200);
  config.enable_prefix_caching = false;  // sharing alone
  auto shared_engine = Engine::start(config);
  r.n = 4;
  auto rec = submit_ok(*shared_engine, r);
  REQUIRE(rec->wait_done());
  const int shared_peak = shared_engine->metrics().gpu_blocks_peak_used;
  auto apart_engine = Engine::start(config);
  r.n = 1;
  std::vector<std::shared_ptr<Recorder>> recs;
  for (int i = 0; i < 4; ++i) {
    auto one = r;
    one.request_id = "apart" + std::to_string(i);
    one.sampling.seed = 3 + i;  // what sample i of the n = 4 request draws with
    recs.push_back(submit_ok(*apart_engine, one));
  }
  for (int i = 0; i < 4; ++i) {
    REQUIRE(recs[i]->wait_done());
    CHECK(recs[i]->tokens() == rec->tokens(i));
  }
  const auto apart = apart_engine->metrics();
  // The prompt's 4 full blocks are held once instead of 4 times.
  CHECK(shared_peak + 3 * 4 <= apart.gpu_blocks_peak_used);
  CHECK(shared_engine->metrics().num_cow_copies >= 3);
}

TEST_CASE("beam search through the actors equals a from-scratch reference", "[actors][beam]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  GenerateRequest r = greedy("beam", cases[3]);
  r.use_beam_search = true;
  r.n = 3;
  r.best_of = 4;
  r.sampling.max_tokens = 16;
  auto rec = submit_ok(*engine, r);
  REQUIRE(rec->wait_done());
  auto loaded = model::load_model(testing::stories260k_dir());
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  testing::ReferenceBeamSearch reference(llama, *backend);
  auto expected = reference.run(r.prompt_ids, 4, 3, 16, 1.0f, false, loaded.config.eos_ids);
  REQUIRE(expected.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(rec->tokens(i) == expected[i].output_ids);
  CHECK(engine->metrics().gpu_blocks_used == 0);
}

TEST_CASE("a repeated prompt hits the prefix cache and skips its prefill", "[actors][prefix]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  GenerateRequest r = greedy("first", cases[5]);
  r.prompt_ids.insert(r.prompt_ids.end(), cases[5].output_ids.begin(), cases[5].output_ids.begin() + 40);
  r.sampling.max_tokens = 10;
  auto first = submit_ok(*engine, r);
  REQUIRE(first->wait_done());
  const auto before = engine->metrics();
  r.request_id = "second";
  auto second = submit_ok(*engine, r);
  REQUIRE(second->wait_done());
  const auto after = engine->metrics();
  CHECK(first->done().num_cached_prompt_tokens == 0);
  CHECK(second->done().num_cached_prompt_tokens == 48);
  CHECK(after.prefix_hits - before.prefix_hits == 3);
  CHECK(before.prompt_tokens_total == 51);
  CHECK(after.prompt_tokens_total - before.prompt_tokens_total == 3);
  CHECK(second->tokens() == first->tokens());
}

TEST_CASE("cancel mid-generation frees the request's blocks at once", "[actors][cancel]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  GenerateRequest r = greedy("long", cases[5]);
  r.sampling.max_tokens = 500;
  r.sampling.ignore_eos = true;
  auto rec = submit_ok(*engine, r);
  REQUIRE(rec->wait_tokens(20));
  engine->cancel("long");
  REQUIRE(rec->wait_done());
  CHECK(rec->finished().finish_reason == "cancelled");
  CHECK(rec->tokens().size() < 500);
  // RequestDone comes after the blocks are freed.
  CHECK(engine->metrics().gpu_blocks_used == 0);
  engine->cancel("no-such-request");  // ignored
}

TEST_CASE("bad requests are refused with clear messages and leave running ones alone", "[actors][refusals]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  auto running = submit_ok(*engine, greedy("good", cases[1]));
  auto sink = std::make_shared<Recorder>();

  GenerateRequest too_long = greedy("too-long", cases[0]);
  too_long.prompt_ids.assign(600, 5);
  auto res = engine->submit(too_long, sink);
  CHECK(res.error == SubmitError::too_long);
  CHECK(res.param == "prompt");
  CHECK_THAT(res.message, Catch::Contains("600 tokens") && Catch::Contains("512"));

  GenerateRequest many = greedy("many", cases[0]);
  many.n = 17;
  res = engine->submit(many, sink);
  CHECK(res.error == SubmitError::invalid_request);
  CHECK(res.param == "n");

  GenerateRequest hot = greedy("hot", cases[0]);
  hot.sampling.temperature = -1;
  res = engine->submit(hot, sink);
  CHECK(res.error == SubmitError::invalid_request);
  CHECK(res.param == "temperature");

  GenerateRequest huge = greedy("huge", cases[0]);
  huge.sampling.max_tokens = 512;
  huge.n = 8;
  res = engine->submit(huge, sink);
  CHECK(res.error == SubmitError::too_long);
  CHECK_THAT(res.message, Catch::Contains("KV blocks"));

  res = engine->submit(greedy("good", cases[1]), sink);
  CHECK(res.error == SubmitError::duplicate_id);

  REQUIRE(running->wait_done());
  CHECK(running->tokens() == cases[1].output_ids);
  CHECK(engine->metrics().requests_finished == 1);
}

TEST_CASE("admin snapshots come from the actors that own the state", "[actors][admin]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  GenerateRequest r = greedy("watched", cases[0]);
  r.sampling.ignore_eos = true;
  r.n = 2;
  r.sampling.temperature = 0.8f;
  auto rec = submit_ok(*engine, r);
  REQUIRE(rec->wait_tokens(5));
  using actors::AdminView;
  auto seqs = std::get<actors::SeqsSnapshot>(engine->admin_snapshot({AdminView::seqs, 0}).view);
  REQUIRE(seqs.seqs.size() == 2);
  CHECK(seqs.seqs[0].request_id == "watched");
  CHECK_FALSE(seqs.seqs[0].blocks.empty());
  CHECK(seqs.seqs[0].blocks[0].ref_count >= 1);
  auto one = std::get<actors::SeqSnapshot>(engine->admin_snapshot({AdminView::seq, seqs.seqs[1].seq_id}).view);
  CHECK(one.index == seqs.seqs[1].index);
  auto pools = std::get<actors::PoolsSnapshot>(engine->admin_snapshot({AdminView::pool, 0}).view);
  CHECK(pools.stats.gpu.num_total == 64);
  CHECK(pools.gpu_ref_counts.size() == 64);
  CHECK(std::get<actors::PrefixCacheSnapshot>(engine->admin_snapshot({AdminView::prefix, 0}).view).enabled);
  auto queues = std::get<actors::QueuesSnapshot>(engine->admin_snapshot({AdminView::queues, 0}).view);
  REQUIRE(queues.running.size() == 1);
  CHECK(queues.running[0].num_seqs == 2);
  CHECK(std::get<engine::SchedulerCounters>(engine->admin_snapshot({AdminView::counters, 0}).view).num_steps >= 5);
  auto gone = engine->admin_snapshot({AdminView::seq, 999999});
  REQUIRE(std::holds_alternative<actors::NotLive>(gone.view));
  CHECK(std::get<actors::NotLive>(gone.view).seq_id == 999999);
  engine->cancel("watched");
  REQUIRE(rec->wait_done());
}

TEST_CASE("shutdown cancels what is left and refuses new requests", "[actors][shutdown]") {
  auto cases = testing::load_reference_cases();
  auto engine = Engine::start(small_config(64));
  GenerateRequest r = greedy("endless", cases[5]);
  r.sampling.ignore_eos = true;
  auto rec = submit_ok(*engine, r);
  REQUIRE(rec->wait_tokens(3));
  engine->shutdown(std::chrono::milliseconds(10));
  REQUIRE(rec->wait_done(std::chrono::seconds(1)));
  CHECK(rec->finished().finish_reason == "cancelled");
  auto res = engine->submit(greedy("late", cases[0]), std::make_shared<Recorder>());
  CHECK(res.error == SubmitError::shutting_down);
}
