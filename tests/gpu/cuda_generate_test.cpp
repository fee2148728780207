// stories260K end to end on the GPU through the engine: fp32 reproduces
// llama2.c exactly, with both attention kernels, under swap and recompute
// preemption, with a partition small enough that every long context takes
// the split-K path, with decode steps recorded (CUDA graphs, the default)
// and launched eagerly; fp16 and bf16 run the same path (their tokens may
// part from fp32 late in a story).

#include <catch2/catch.hpp>

#include "engine/generator.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "model/loader.hpp"
#include "../model/reference_cases.hpp"

using namespace pagedserve;

namespace {

struct Run {
  kernels::DType dtype = kernels::DType::f32;
  kernels::AttentionKernel kernel = kernels::AttentionKernel::fast;
  int partition = 512;
  int block_size = 16;
  int num_blocks = 256;
  engine::PreemptionMode preemption = engine::PreemptionMode::recompute;
  int repeats = 3;
  bool graphs = true;
};

std::vector<engine::GenerationResult> run_all(const Run& run, std::int64_t* preemptions = nullptr) {
  auto loaded = model::load_model(testing::stories260k_dir());
  kernels::CudaBackendOptions o;
  o.activation_dtype = run.dtype;
  o.attention_kernel = run.kernel;
  o.attention_partition = run.partition;
  o.graphs = run.graphs;
  auto backend = kernels::make_cuda_backend(o);
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  engine::GeneratorConfig c;
  c.blocks.block_size = run.block_size;
  c.blocks.num_gpu_blocks = run.num_blocks;
  c.blocks.num_cpu_blocks = run.preemption == engine::PreemptionMode::swap ? 4 * run.num_blocks : 0;
  c.blocks.watermark = 0;
  c.preemption_mode = run.preemption;
  engine::Generator gen(llama, loaded.tokenizer.get(), c);
  std::vector<engine::GenerationRequest> requests;
  for (int rep = 0; rep < run.repeats; ++rep)
    for (const auto& rc : testing::load_reference_cases()) {
      engine::GenerationRequest r;
      r.prompt_ids = rc.prompt_ids;
      r.params.temperature = 0;
      r.params.max_tokens = rc.max_tokens();
      requests.push_back(r);
    }
  auto out = gen.generate(requests);
  if (preemptions) *preemptions = gen.stats().num_preemptions;
  return out;
}

void check_references(const Run& run) {
  auto cases = testing::load_reference_cases();
  std::int64_t preemptions = 0;
  auto out = run_all(run, &preemptions);
  for (std::size_t i = 0; i < out.size(); ++i) {
    INFO("request " << i << ", preemptions " << preemptions);
    CHECK(out[i].output_ids == cases[i % cases.size()].output_ids);
  }
}

}  // namespace

TEST_CASE("stories260K in fp32 on the GPU reproduces every reference story", "[gpu][e2e]") {
  using kernels::AttentionKernel;
  using engine::PreemptionMode;
  for (auto kernel : {AttentionKernel::fast, AttentionKernel::simple})
    for (auto [bs, blocks] : {std::pair{16, 256}, std::pair{16, 40}, std::pair{8, 400}, std::pair{32, 128}})
      for (auto mode : {PreemptionMode::recompute, PreemptionMode::swap})
        for (int partition : {512, 64}) {  // 64: every context past 64 keys is split
          INFO((kernel == AttentionKernel::fast ? "fast" : "simple")
               << " kernel, block size " << bs << ", blocks " << blocks << ", "
               << (mode == PreemptionMode::swap ? "swap" : "recompute") << ", partition " << partition);
          Run run;
          run.kernel = kernel;
          run.block_size = bs;
          run.num_blocks = blocks;  // 40 blocks of 16: preemption
          run.preemption = mode;
          run.partition = partition;
          check_references(run);
        }
}

TEST_CASE("stories260K in fp32 on the GPU, every step launched eagerly, reproduces every reference story", "[gpu][e2e]") {
  for (auto kernel : {kernels::AttentionKernel::fast, kernels::AttentionKernel::simple}) {
    INFO((kernel == kernels::AttentionKernel::fast ? "fast" : "simple") << " kernel, eager");
    Run run;
    run.kernel = kernel;
    run.graphs = false;
    run.num_blocks = 40;
    run.preemption = engine::PreemptionMode::swap;
    check_references(run);
  }
}

TEST_CASE("stories260K on the GPU under compute-sanitizer: fast kernel, split-K, swap", "[gpu][memcheck]") {
  Run run;
  run.num_blocks = 40;
  run.partition = 64;
  run.preemption = engine::PreemptionMode::swap;
  run.repeats = 1;
  check_references(run);
}

TEST_CASE("stories260K in fp16 and bf16 on the GPU generates the start of each story", "[gpu][e2e]") {
  auto cases = testing::load_reference_cases();
  for (auto dtype : {kernels::DType::f16, kernels::DType::bf16}) {
    Run run;
    run.dtype = dtype;
    run.repeats = 1;
    auto out = run_all(run);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO(kernels::dtype_name(dtype) << " request " << i);
      REQUIRE(out[i].output_ids.size() >= 8);
      CHECK(std::equal(out[i].output_ids.begin(), out[i].output_ids.begin() + 8, cases[i].output_ids.begin()));
    }
  }
}
