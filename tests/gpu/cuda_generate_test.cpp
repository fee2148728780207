// stories260K end to end on the GPU: fp32 reproduces llama2.c exactly;
// fp16 runs the same path (its tokens may differ late in a story).

#include <catch2/catch.hpp>

#include "engine/generator.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "model/loader.hpp"
#include "../model/reference_cases.hpp"

using namespace pagedserve;

namespace {

std::vector<engine::GenerationResult> run_all(kernels::DType dtype, int block_size, int num_blocks) {
  auto loaded = model::load_model(testing::stories260k_dir());
  kernels::CudaBackendOptions o;
  o.activation_dtype = dtype;
  auto backend = kernels::make_cuda_backend(o);
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  engine::GeneratorConfig c;
  c.blocks.block_size = block_size;
  c.blocks.num_gpu_blocks = num_blocks;
  c.blocks.watermark = 0;
  engine::Generator gen(llama, loaded.tokenizer.get(), c);
  std::vector<engine::GenerationRequest> requests;
  for (int rep = 0; rep < 3; ++rep)
    for (const auto& rc : testing::load_reference_cases()) {
      engine::GenerationRequest r;
      r.prompt_ids = rc.prompt_ids;
      r.params.temperature = 0;
      r.params.max_tokens = rc.max_tokens();
      requests.push_back(r);
    }
  return gen.generate(requests);
}

}  // namespace

TEST_CASE("stories260K in fp32 on the GPU reproduces every reference story", "[gpu][e2e]") {
  auto cases = testing::load_reference_cases();
  for (auto [bs, blocks] : {std::pair{16, 256}, std::pair{16, 40}, std::pair{8, 400}, std::pair{32, 128}}) {
    auto out = run_all(kernels::DType::f32, bs, blocks);  // 40 blocks of 16: preemption
    for (std::size_t i = 0; i < out.size(); ++i) {
      INFO("block size " << bs << ", blocks " << blocks << ", request " << i);
      CHECK(out[i].output_ids == cases[i % cases.size()].output_ids);
    }
  }
}

TEST_CASE("stories260K in fp16 on the GPU generates the start of each story", "[gpu][e2e]") {
  auto cases = testing::load_reference_cases();
  auto out = run_all(kernels::DType::f16, 16, 256);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    REQUIRE(out[i].output_ids.size() >= 8);
    CHECK(std::equal(out[i].output_ids.begin(), out[i].output_ids.begin() + 8, cases[i].output_ids.begin()));
  }
}
