#include "engine/generator.hpp"

#include <catch2/catch.hpp>

#include "kernels/backend.hpp"
#include "kernels/cpu/gemv.hpp"
#include "model/loader.hpp"
#include "../model/reference_cases.hpp"

using namespace pagedserve;

namespace {

struct Fixture {
  model::LoadedModel loaded = model::load_model(testing::stories260k_dir());
  std::unique_ptr<kernels::Backend> backend = kernels::make_backend("cpu");
  model::LlamaModel llama{loaded.config, loaded.weights, *backend};
  std::vector<testing::ReferenceCase> cases = testing::load_reference_cases();

  engine::GeneratorConfig config(int block_size, int num_blocks) {
    engine::GeneratorConfig c;
    c.blocks.block_size = block_size;
    c.blocks.num_gpu_blocks = num_blocks;
    c.blocks.watermark = 0;
    return c;
  }
  engine::GenerationRequest request(const testing::ReferenceCase& c) {
    engine::GenerationRequest r;
    r.prompt_ids = loaded.tokenizer->encode(c.prompt, true);
    r.params.temperature = 0;
    r.params.max_tokens = c.max_tokens();
    return r;
  }
};

}  // namespace

TEST_CASE("each reference story is reproduced exactly, one at a time, at block sizes 1, 16, 32", "[generator][parity]") {
  Fixture f;
  for (int bs : {1, 16, 32}) {
    for (const auto& c : f.cases) {
      engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(bs, 1024 / bs + 2));
      auto out = gen.generate({f.request(c)});
      INFO("block size " << bs << ", prompt '" << c.prompt << "'");
      CHECK(out[0].output_ids == c.output_ids);
    }
  }
}

TEST_CASE("each reference story is reproduced exactly on every GEMV path this CPU runs", "[generator][parity]") {
  Fixture f;
  const auto before = kernels::cpu::active_isa();
  for (auto isa : {kernels::cpu::Isa::scalar, kernels::cpu::Isa::avx2, kernels::cpu::Isa::avx512}) {
    if (!kernels::cpu::isa_supported(isa)) continue;
    kernels::cpu::set_active_isa(isa);
    for (const auto& c : f.cases) {
      engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 66));
      INFO(kernels::cpu::isa_name(isa) << " path, prompt '" << c.prompt << "'");
      CHECK(gen.generate({f.request(c)})[0].output_ids == c.output_ids);
    }
  }
  kernels::cpu::set_active_isa(before);
}

TEST_CASE("all reference stories together in one batch are reproduced exactly", "[generator][parity]") {
  Fixture f;
  std::vector<engine::GenerationRequest> requests;
  for (const auto& c : f.cases) requests.push_back(f.request(c));
  engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 256));
  auto out = gen.generate(requests);
  for (std::size_t i = 0; i < f.cases.size(); ++i) CHECK(out[i].output_ids == f.cases[i].output_ids);
  CHECK(gen.stats().max_running == static_cast<int>(f.cases.size()));
  CHECK(gen.stats().num_preemptions == 0);
}

TEST_CASE("the empty prompt gives the published story word for word", "[generator][parity]") {
  Fixture f;
  engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 64));
  const auto& c = f.cases[0];
  REQUIRE(c.prompt.empty());
  auto out = gen.generate({f.request(c)});
  CHECK(out[0].text == c.stdout_text);
  CHECK(out[0].finish_reason == "length");
}

TEST_CASE("a pool too small for the batch preempts by recompute and changes nothing", "[generator][preemption]") {
  Fixture f;
  std::vector<engine::GenerationRequest> requests;
  for (int rep = 0; rep < 3; ++rep)
    for (const auto& c : f.cases) requests.push_back(f.request(c));
  // 18 sequences of up to 513 tokens in 40 blocks of 16 (640 slots).
  engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 40));
  auto out = gen.generate(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) CHECK(out[i].output_ids == f.cases[i % f.cases.size()].output_ids);
  CHECK(gen.stats().num_preemptions > 0);
  CHECK(gen.block_manager().num_free_gpu_blocks() == 40);  // nothing leaked
}

TEST_CASE("stop strings end generation and are cut from the text", "[generator]") {
  Fixture f;
  auto r = f.request(f.cases[1]);
  r.params.stop = {"Lily"};
  engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 64));
  auto out = gen.generate({r});
  CHECK(out[0].finish_reason == "stop");
  CHECK(out[0].text == ", there was a little girl named ");
}

TEST_CASE("requests that can never fit are refused with a clear message", "[generator]") {
  Fixture f;
  engine::Generator gen(f.llama, f.loaded.tokenizer.get(), f.config(16, 8));
  auto r = f.request(f.cases[0]);  // 256 tokens > 8 blocks * 16
  CHECK_THROWS_WITH(gen.generate({r}), Catch::Contains("KV blocks"));
  r.prompt_ids.assign(600, 5);
  CHECK_THROWS_WITH(gen.generate({r}), Catch::Contains("more than the model's 512"));
}
