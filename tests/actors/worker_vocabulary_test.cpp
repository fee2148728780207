// A 128,000-token vocabulary crosses the worker link: a server whose
// tokenizer has 128k byte-level pieces sets up a worker (published on
// 127.0.0.1 by this process's network layer, as `pagedserve worker` does)
// with the whole vocabulary in its setup message, and constrained requests
// through the worker draw only what their constraint allows.

#include <caf/io/all.hpp>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <unistd.h>

#include "actors/runtime.hpp"
#include "actors/worker_link.hpp"
#include "model/dummy_weights.hpp"
#include "model/llama2c_tokenizer.hpp"

using namespace pagedserve;
using namespace std::chrono_literals;

namespace {

constexpr int kVocabSize = 128000;

// A llama2.c tokenizer.bin of `size` pieces: <unk> <s> </s>, the 256 byte
// fallbacks, then distinct multi-byte pieces as a byte-level BPE has them.
std::string write_byte_level_tokenizer(int size) {
  std::vector<std::string> pieces{"<unk>", "<s>", "</s>"};
  char hex[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    pieces.emplace_back(hex);
  }
  std::mt19937 rng(128);
  const std::string letters = "etaoinshrdlucmwy0123456789{}\":,";
  std::set<std::string> seen(pieces.begin(), pieces.end());
  while (static_cast<int>(pieces.size()) < size) {
    std::string p = rng() % 2 ? " " : "";
    for (int k = 1 + static_cast<int>(rng() % 8); k > 0; --k) p += letters[rng() % letters.size()];
    if (seen.insert(p).second) pieces.push_back(p);
  }
  const auto path = (std::filesystem::temp_directory_path() /
                     ("pagedserve-128k-" + std::to_string(::getpid()) + ".bin")).string();
  std::ofstream out(path, std::ios::binary);
  const std::int32_t max_len = 16;
  out.write(reinterpret_cast<const char*>(&max_len), 4);
  for (const auto& p : pieces) {
    const float score = 0;
    const auto len = static_cast<std::int32_t>(p.size());
    out.write(reinterpret_cast<const char*>(&score), 4);
    out.write(reinterpret_cast<const char*>(&len), 4);
    out.write(p.data(), len);
  }
  return path;
}

class TextSink final : public actors::RequestSink {
 public:
  void on_token(const actors::TokenEvent& e) override {
    std::lock_guard lock(mu_);
    text_ += e.text;
  }
  void on_sample_finished(const actors::SampleFinished& e) override {
    std::lock_guard lock(mu_);
    finish_ = e.finish_reason + (e.error.empty() ? "" : ": " + e.error);
  }
  void on_done(const actors::RequestDone&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool wait_done() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 120s, [&] { return done_; });
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  std::string finish() {
    std::lock_guard lock(mu_);
    return finish_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_, finish_;
  bool done_ = false;
};

}  // namespace

TEST_CASE("a 128k-token vocabulary crosses the worker link and constrains what the worker draws",
          "[worker_link][grammar]") {
  auto model_config = model::preset_config("stories260K");
  model_config.vocab_size = kVocabSize;
  model_config.name = "byte-level-128k";
  const auto tokenizer_path = write_byte_level_tokenizer(kVocabSize);

  auto worker_runtime = actors::make_runtime(true);
  auto served = std::make_shared<actors::WorkerModel>();
  served->loaded.config = model_config;
  served->loaded.weights = model::make_dummy_weights(model_config, kernels::DType::f32, 5);
  served->device = "cpu";
  auto worker = actors::spawn_worker(*worker_runtime.system, served);
  auto port = worker_runtime.system->middleman().publish(worker, 0, "127.0.0.1", true);
  REQUIRE(port);

  actors::EngineConfig config;
  config.model = "dummy:stories260K";
  config.executors = {"127.0.0.1:" + std::to_string(*port)};
  config.num_gpu_blocks = 32;
  config.swap_space_gib = 0.01;
  model::LoadedModel local;
  local.config = model_config;
  local.tokenizer = std::make_unique<model::Llama2cTokenizer>(tokenizer_path, kVocabSize);
  auto engine = actors::start_remote_engine(config, std::move(local));
  std::filesystem::remove(tokenizer_path);

  const std::vector<std::pair<grammar::Constraint, std::set<std::string>>> cases = {
      {{"choice", R"(["yes", "no", "maybe so"])"}, {"yes", "no", "maybe so"}},
      {{"regex", "[0-9]{3}"}, {}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [constraint, allowed] = cases[i];
    INFO(constraint.kind << " " << constraint.source);
    actors::GenerateRequest r;
    r.request_id = "c" + std::to_string(i);
    r.prompt_ids = {1, 300, 4000, 127999};
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 11;
    r.sampling.max_tokens = 16;
    r.sampling.constraint = constraint;
    auto sink = std::make_shared<TextSink>();
    const auto submitted = engine->submit(r, sink);
    INFO(submitted.message);
    REQUIRE(submitted.ok());
    REQUIRE(sink->wait_done());
    INFO("text '" << sink->text() << "', finish " << sink->finish());
    CHECK(sink->finish() == "stop");
    if (!allowed.empty()) {
      CHECK(allowed.count(sink->text()) == 1);
    } else {
      REQUIRE(sink->text().size() == 3);
      for (char c : sink->text()) CHECK((c >= '0' && c <= '9'));
    }
  }
  CHECK_FALSE(engine->dead_reason().has_value());
  engine->shutdown(0ms);
  engine.reset();
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}
