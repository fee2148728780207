// Tiny random checkpoints of each supported architecture on the GPU against
// the CPU backend, end to end, with decode steps recorded and launched
// eagerly. (The ops they add are compared one by one in
// cuda_backend_test.cpp.)

#include <catch2/catch.hpp>
#include <filesystem>

#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "model/hf_loader.hpp"
#include "model/stepwise_logits.hpp"
#include "model/tiny_hf.hpp"

using namespace pagedserve;
using namespace pagedserve::kernels;

namespace {

std::unique_ptr<Backend> gpu_backend(bool graphs) {
  CudaBackendOptions o;
  o.activation_dtype = DType::f32;
  o.graphs = graphs;
  return make_cuda_backend(o);
}

}  // namespace

TEST_CASE("tiny checkpoints of every supported architecture give the CPU logits on the GPU", "[gpu][e2e]") {
  for (const auto& spec : {testing::tiny_llama3(), testing::tiny_qwen2(), testing::tiny_qwen3(), testing::tiny_mistral()}) {
    const auto ck = testing::make_tiny_checkpoint(spec);
    const auto dir = testing::temp_dir("gpu-" + spec.architecture);
    testing::write_tiny_hf(ck, dir);
    auto hf = model::load_hf_model(dir);
    auto cpu = make_cpu_backend();
    model::LlamaModel on_cpu(hf.config, hf.weights, *cpu);
    const auto tokens = testing::random_prompt(40, spec.vocab, 5);
    const auto want = testing::stepwise_logits(on_cpu, tokens, 17, 16);
    for (bool graphs : {true, false}) {
      auto gpu = gpu_backend(graphs);
      model::LlamaModel on_gpu(hf.config, hf.weights, *gpu);
      const auto got = testing::stepwise_logits(on_gpu, tokens, 17, 16);
      double worst = 0;
      for (std::size_t t = 0; t < want.size(); ++t)
        for (std::size_t i = 0; i < want[t].size(); ++i) worst = std::max(worst, double(std::abs(got[t][i] - want[t][i])));
      INFO(spec.architecture << (graphs ? " recorded" : " eager") << ": largest logit difference " << worst);
      CHECK(worst < 1e-3);
    }
    std::filesystem::remove_all(dir);
  }
}
