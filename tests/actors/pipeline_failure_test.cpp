// A pipeline stage that fails mid-stream: the stages after it, waiting for
// its hidden states, are released instead of hanging; the step fails, so
// every open request ends with the stage's error and the engine is dead.

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "../model/reference_cases.hpp"
#include "actors/engine_start.hpp"
#include "engine/model_executor.hpp"
#include "engine/parallel_executor.hpp"
#include "kernels/stage_link.hpp"

using namespace pagedserve;
using namespace pagedserve::actors;

namespace {

class DoneRecorder final : public RequestSink {
 public:
  void on_token(const TokenEvent&) override {}
  void on_sample_finished(const SampleFinished& e) override {
    std::lock_guard lock(mu_);
    finishes_.push_back(e);
  }
  void on_done(const RequestDone&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool wait_done() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done_; });
  }
  std::vector<SampleFinished> finishes() {
    std::lock_guard lock(mu_);
    return finishes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<SampleFinished> finishes_;
};

// A real stage that throws at the start of its `fail_at`-th step, after the
// stage before it has sent that step's hidden states.
class BreakingStage final : public engine::StepExecutor {
 public:
  BreakingStage(std::unique_ptr<engine::StepExecutor> stage, int fail_at) : stage_(std::move(stage)), fail_at_(fail_at) {}
  std::string name() const override { return stage_->name(); }
  engine::StepResult execute(const engine::StepPlan& plan) override {
    if (++steps_ == fail_at_) throw std::runtime_error("stage 1 broke");
    return stage_->execute(plan);
  }

 private:
  std::unique_ptr<engine::StepExecutor> stage_;
  int fail_at_;
  int steps_ = 0;
};

constexpr int kStages = 3, kBlocks = 64, kBlockSize = 16;

EngineParts three_stages_the_middle_breaking(int fail_at) {
  auto loaded = model::load_model(testing::stories260k_dir());
  auto links = std::make_shared<kernels::PipelineLinks>(kStages, 1);
  std::vector<std::unique_ptr<engine::StepExecutor>> stages;
  for (int s = 0; s < kStages; ++s) {
    auto backend = kernels::make_backend("cpu");
    auto llama = std::make_unique<model::LlamaModel>(loaded.config, loaded.weights, *backend,
                                                     model::stage_layers(loaded.config, s, kStages));
    llama->join_pipeline(links->from(s, 0), links->to(s, 0), kStages);
    std::unique_ptr<engine::StepExecutor> stage =
        std::make_unique<engine::ModelExecutor>(std::move(backend), std::move(llama), kBlocks, 0, kBlockSize);
    if (s == 1) stage = std::make_unique<BreakingStage>(std::move(stage), fail_at);
    stages.push_back(std::move(stage));
  }
  EngineParts parts;
  parts.model_config = loaded.config;
  parts.tokenizer = std::move(loaded.tokenizer);
  parts.executor = std::make_shared<engine::ParallelExecutor>(std::move(stages), kStages - 1, [links] { links->abort(); },
                                                              "pipeline parallel 3");
  parts.num_gpu_blocks = kBlocks;
  parts.max_model_len = loaded.config.max_seq_len;
  return parts;
}

}  // namespace

TEST_CASE("a failing pipeline stage ends every request with its error, kills the engine, and nothing hangs", "[actors][pp]") {
  EngineConfig config;
  config.model = testing::stories260k_dir();
  config.block_size = kBlockSize;
  config.num_gpu_blocks = kBlocks;
  auto engine = start_engine(config, three_stages_the_middle_breaking(6));
  std::vector<std::shared_ptr<DoneRecorder>> recs;
  for (int i = 0; i < 3; ++i) {
    GenerateRequest r;
    r.request_id = "r" + std::to_string(i);
    r.prompt_ids = {1, 403, 407, 261, 62};
    r.sampling.max_tokens = 100;
    r.sampling.ignore_eos = true;
    recs.push_back(std::make_shared<DoneRecorder>());
    REQUIRE(engine->submit(r, recs.back()).ok());
  }
  for (auto& rec : recs) {
    REQUIRE(rec->wait_done());
    const auto finishes = rec->finishes();
    REQUIRE_FALSE(finishes.empty());
    CHECK(finishes.back().finish_reason == "error");
    CHECK_THAT(finishes.back().error, Catch::Contains("stage 1 broke"));
  }
  const auto reason = engine->dead_reason();
  REQUIRE(reason);
  CHECK_THAT(*reason, Catch::Contains("stage 1 broke"));
  engine->shutdown(std::chrono::milliseconds(0));
}
