// Constrained generation through the whole engine loop on the trained
// stories260K model: every output is a whole match of its regex (checked
// with std::regex), and a pool small enough to preempt by recompute changes
// no seeded output (the replayed matcher is where it was).

#include <catch2/catch.hpp>

#include <regex>

#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "../model/reference_cases.hpp"

using namespace pagedserve;

namespace {

constexpr const char* kPattern = "(([a-z]{1,8}|[0-9]{2}) ){12,20}(the end|[A-Z][a-z]+)\\.";

std::vector<engine::GenerationResult> run(model::LlamaModel& llama, const model::Tokenizer& tok, int num_blocks, int& preemptions) {
  std::vector<engine::GenerationRequest> requests(12);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto& r = requests[i];
    r.prompt_ids = tok.encode("Once upon a time", true);
    r.params.temperature = 1;
    r.params.seed = i;
    r.params.max_tokens = 300;
    r.params.constraint = {"regex", kPattern};
  }
  engine::GeneratorConfig c;
  c.blocks.block_size = 16;
  c.blocks.num_gpu_blocks = num_blocks;
  c.blocks.watermark = 0;
  engine::Generator gen(llama, &tok, c);
  auto out = gen.generate(requests);
  preemptions = static_cast<int>(gen.stats().num_preemptions);
  return out;
}

}  // namespace

TEST_CASE("constrained sampling: every output matches its regex, preempted or not", "[generator][grammar]") {
  model::LoadedModel loaded = model::load_model(testing::stories260k_dir());
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel llama{loaded.config, loaded.weights, *backend};
  const std::regex reference(kPattern, std::regex::ECMAScript);
  int roomy_preemptions = 0, tight_preemptions = 0;
  const auto roomy = run(llama, *loaded.tokenizer, 400, roomy_preemptions);
  const auto tight = run(llama, *loaded.tokenizer, 24, tight_preemptions);
  CHECK(roomy_preemptions == 0);
  CHECK(tight_preemptions > 0);
  for (std::size_t i = 0; i < roomy.size(); ++i) {
    INFO("request " << i << ": " << roomy[i].text);
    CHECK(roomy[i].finish_reason == "stop");
    CHECK(std::regex_match(roomy[i].text, reference));
    CHECK(tight[i].output_ids == roomy[i].output_ids);
  }
}
