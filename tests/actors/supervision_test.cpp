// Supervision: a failure injected into each actor, at its part of a step,
// kills the engine loudly and at once. Every open request ends with
// finish_reason "error" and the reason, nothing hangs, new requests are
// refused as engine_dead, and the engine no longer answers its watchdog.

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "../model/reference_cases.hpp"
#include "actors/engine_start.hpp"

using namespace pagedserve;
using namespace pagedserve::actors;

namespace {

class Recorder final : public RequestSink {
 public:
  void on_token(const TokenEvent&) override {
    std::lock_guard lock(mu_);
    ++num_tokens_;
    cv_.notify_all();
  }
  void on_sample_finished(const SampleFinished& e) override {
    std::lock_guard lock(mu_);
    finishes_.push_back(e);
  }
  void on_done(const RequestDone&) override {
    std::lock_guard lock(mu_);
    ++num_done_;
    cv_.notify_all();
  }
  bool wait_tokens(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return num_tokens_ >= n; });
  }
  bool wait_done(std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return num_done_ > 0; });
  }
  std::vector<SampleFinished> finishes() {
    std::lock_guard lock(mu_);
    return finishes_;
  }
  int num_done() {
    std::lock_guard lock(mu_);
    return num_done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int num_tokens_ = 0;
  int num_done_ = 0;
  std::vector<SampleFinished> finishes_;
};

GenerateRequest long_request(const std::string& id, int n) {
  GenerateRequest r;
  r.request_id = id;
  r.prompt_ids = {1, 403, 407, 261, 62};
  r.sampling.temperature = 0.8f;
  r.sampling.seed = 7;
  r.sampling.max_tokens = 250;
  r.sampling.ignore_eos = true;
  r.n = n;
  return r;
}

const char* name_of(EngineActor a) {
  switch (a) {
    case EngineActor::router: return "router";
    case EngineActor::scheduler: return "scheduler";
    case EngineActor::block_manager: return "block manager";
    case EngineActor::executor: return "executor";
  }
  return "?";
}

}  // namespace

TEST_CASE("a failure in any actor ends every open request with an error and kills the engine", "[actors][supervision]") {
  for (auto which : {EngineActor::executor, EngineActor::block_manager, EngineActor::scheduler, EngineActor::router}) {
    INFO("failing actor: " << name_of(which));
    EngineConfig config;
    config.model = testing::stories260k_dir();
    config.num_gpu_blocks = 64;
    config.max_num_seqs = 4;  // some requests wait
    auto engine = Engine::start(config);
    std::vector<std::shared_ptr<Recorder>> recs;
    for (int i = 0; i < 6; ++i) {
      recs.push_back(std::make_shared<Recorder>());
      const auto submitted = engine->submit(long_request("r" + std::to_string(i), 1 + i % 2), recs.back());
      INFO(submitted.message);
      REQUIRE(submitted.ok());
    }
    REQUIRE(recs[0]->wait_tokens(3));
    CHECK(engine->answers(std::chrono::seconds(5)));
    CHECK_FALSE(engine->dead_reason());

    inject_failure(*engine, which, "injected failure");
    for (std::size_t i = 0; i < recs.size(); ++i) {
      INFO("request " << i);
      REQUIRE(recs[i]->wait_done(std::chrono::seconds(10)));
      CHECK(recs[i]->num_done() == 1);
      const auto finishes = recs[i]->finishes();
      REQUIRE(finishes.size() >= static_cast<std::size_t>(1 + i % 2));
      CHECK(finishes.back().finish_reason == "error");
      CHECK_THAT(finishes.back().error, Catch::Contains("injected failure"));
    }
    const auto reason = engine->dead_reason();
    REQUIRE(reason);
    CHECK_THAT(*reason, Catch::Contains("injected failure"));
    CHECK_FALSE(engine->answers(std::chrono::seconds(1)));
    auto late = std::make_shared<Recorder>();
    const auto refused = engine->submit(long_request("late", 1), late);
    CHECK(refused.error == SubmitError::engine_dead);
    engine->shutdown(std::chrono::milliseconds(0));  // returns: nothing is left open
  }
}

TEST_CASE("a request on its way in when the engine dies ends with an error too", "[actors][supervision]") {
  EngineConfig config;
  config.model = testing::stories260k_dir();
  config.num_gpu_blocks = 64;
  auto engine = Engine::start(config);
  auto first = std::make_shared<Recorder>();
  REQUIRE(engine->submit(long_request("first", 1), first).ok());
  inject_failure(*engine, EngineActor::block_manager, "injected failure");
  std::vector<std::shared_ptr<Recorder>> recs;
  for (int i = 0; i < 20; ++i) {
    auto rec = std::make_shared<Recorder>();
    if (engine->submit(long_request("r" + std::to_string(i), 1), rec).ok()) recs.push_back(rec);
  }
  REQUIRE(first->wait_done(std::chrono::seconds(10)));
  for (auto& rec : recs) {
    REQUIRE(rec->wait_done(std::chrono::seconds(10)));
    CHECK(rec->finishes().back().finish_reason == "error");
  }
}
