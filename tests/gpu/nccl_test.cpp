// Tensor parallelism on GPUs: the CUDA backend's vocab-parallel embedding
// and host upload against the CPU backend, NCCL's collectives on one GPU
// (world size 1: the all-reduce is the identity, the gather a copy) against
// the in-process group's result, stories260K through a one-rank NCCL group
// against llama2.c's references, and, on a host with two GPUs or more,
// TP 2 and PP 2 as threads of one engine (build_parallel_executor).
//
// NCCL is loaded at run time (kernels/nccl.hpp): a GPU host without it
// fails the [nccl] cases by name (scripts/gpu-check.sh points
// PAGEDSERVE_NCCL_LIBRARY at PyTorch's copy when the CUDA toolkit has none).

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "actors/engine_start.hpp"
#include "engine/generator.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/nccl_collective.hpp"
#include "kernels/nccl.hpp"
#include "model/loader.hpp"
#include "model/tensor_parallel.hpp"
#include "../engine/reference_generation.hpp"
#include "test_util.hpp"

using namespace pagedserve;
using namespace pagedserve::kernels;
using pagedserve::testing::random_vector;

namespace {

std::unique_ptr<Backend> gpu(DType dtype, int device = 0) {
  CudaBackendOptions o;
  o.device = device;
  o.activation_dtype = dtype;
  o.graphs = false;  // split models run eagerly
  return make_cuda_backend(o);
}

std::vector<float> down(Backend& b, const Tensor& t) {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  b.to_host_f32(t, out);
  return out;
}

OwnedTensor up(Backend& b, const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
  return b.upload_weight({v.data(), DType::f32, rows, cols, {}});
}

std::shared_ptr<const NcclLibrary> nccl() {
  try {
    return load_nccl();
  } catch (const std::exception& e) {
    FAIL("NCCL is needed for tensor parallelism on GPUs: " << e.what());
  }
  return nullptr;
}

BatchMetadata tokens(std::vector<std::int32_t> ids) {
  BatchMetadata meta;
  meta.token_ids = ids;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    meta.positions.push_back(static_cast<std::int32_t>(i));
    meta.slot_mapping.push_back(-1);
  }
  meta.query_start = {0, static_cast<std::int32_t>(ids.size())};
  meta.context_lens = {static_cast<std::int32_t>(ids.size())};
  return meta;
}

// The engine's CUDA module beside the executable (the bundle) or in the
// build tree, for the cases that go through build_parallel_executor.
void find_cuda_module() {
#ifdef PAGEDSERVE_CUDA_MODULE_FILE
  if (!std::getenv("PAGEDSERVE_CUDA_MODULE_PATH") && std::filesystem::exists(PAGEDSERVE_CUDA_MODULE_FILE))
    ::setenv("PAGEDSERVE_CUDA_MODULE_PATH", PAGEDSERVE_CUDA_MODULE_FILE, 0);
#endif
}

}  // namespace

TEST_CASE("CUDA embedding_rows matches the CPU: the rank's rows, zeros elsewhere", "[gpu][ops][tp]") {
  const auto table = random_vector(7 * 64, 11);  // token ids [5, 12)
  const auto meta = tokens({0, 5, 8, 11, 12, 30, 6});
  auto cpu = make_cpu_backend();
  std::vector<float> want(7 * 64);
  {
    auto t = up(*cpu, table, 7, 64), out = cpu->allocate_tensor(DType::f32, 7, 64);
    cpu->embedding_rows(t.view, 5, *cpu->prepare(meta), out.view);
    want = down(*cpu, out.view);
  }
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    INFO("dtype " << dtype_name(dtype));
    auto g = gpu(dtype);
    auto t = up(*g, table, 7, 64), out = g->allocate_tensor(dtype, 7, 64);
    g->fill_synthetic(out.view, SyntheticFill{7, 1.0f});  // no row may keep what was there
    g->embedding_rows(t.view, 5, *g->prepare(meta), out.view);
    const auto got = down(*g, out.view);
    const double tol = dtype == DType::f32 ? 0 : dtype == DType::f16 ? 1e-3 : 8e-3;
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).epsilon(tol).margin(tol));
  }
}

TEST_CASE("CUDA from_host_f32 lands host values in every activation type", "[gpu][ops][tp]") {
  std::vector<float> host(5 * 48);
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * 0.25f;
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    INFO("dtype " << dtype_name(dtype));
    auto g = gpu(dtype);
    auto out = g->allocate_tensor(dtype, 5, 48);
    g->from_host_f32(host, out.view);
    CHECK(down(*g, out.view) == host);  // quarters of small integers: exact in every type
    CHECK_THROWS_AS(g->from_host_f32(std::span<const float>(host).first(7), out.view), std::invalid_argument);
  }
}

TEST_CASE("NCCL on one GPU: all_reduce_sum is the identity, all_gather_columns the in-process group's copy",
          "[gpu][nccl]") {
  auto lib = nccl();
  INFO(lib->path << ": NCCL " << lib->version_string());
  auto in_process = make_in_process_group(1);
  auto cpu = make_cpu_backend();
  const auto x = random_vector(5 * 33, 21);
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    INFO("dtype " << dtype_name(dtype));
    auto g = gpu(dtype);
    auto group = cuda::make_nccl_collective(lib, *g, lib->unique_id(), 0, 1);
    CHECK(group->rank() == 0);
    CHECK(group->world_size() == 1);

    auto t = up(*g, x, 5, 33);
    const auto before = down(*g, t.view);
    group->all_reduce_sum(t.view);
    CHECK(down(*g, t.view) == before);

    auto want_out = cpu->allocate_tensor(DType::f32, 5, 33);
    auto cpu_local = up(*cpu, before, 5, 33);
    in_process->member(0).all_gather_columns(cpu_local.view, want_out.view);
    auto out = g->allocate_tensor(dtype, 5, 33);
    group->all_gather_columns(t.view, out.view);
    CHECK(down(*g, out.view) == down(*cpu, want_out.view));

    auto narrow = g->allocate_tensor(dtype, 5, 32);
    CHECK_THROWS_AS(group->all_gather_columns(narrow.view, out.view), std::logic_error);
    group->abort();
    CHECK_THROWS_WITH(group->all_reduce_sum(t.view), Catch::Contains("aborted"));
  }
}

TEST_CASE("stories260K through a one-rank NCCL group reproduces every reference story", "[gpu][nccl]") {
  auto lib = nccl();
  auto loaded = model::load_model(testing::stories260k_dir());
  auto g = gpu(DType::f32);
  auto group = cuda::make_nccl_collective(lib, *g, lib->unique_id(), 0, 1);
  model::LlamaModel llama(model::shard_config(loaded.config, 0, 1), model::shard_weights(loaded.config, loaded.weights, 0, 1),
                          *g);
  llama.join_tensor_parallel_group(*group);  // every block's output goes through ncclAllReduce
  engine::GeneratorConfig c;
  c.blocks.block_size = 16;
  c.blocks.num_gpu_blocks = 256;
  c.blocks.watermark = 0;
  engine::Generator gen(llama, loaded.tokenizer.get(), c);
  testing::check_reference_stories(gen);
}

TEST_CASE("TP 2 over NCCL on two GPUs: the ranks hold the same logits, TP 1's to rounding", "[gpu][nccl][multi-gpu]") {
  if (cuda_device_count() < 2) {
    WARN("one GPU: TP 2 over NCCL needs two (skipped)");
    return;
  }
  auto lib = nccl();
  auto loaded = model::load_model(testing::stories260k_dir());
  const auto meta = [&] {
    auto m = tokens({1, 403, 407, 261, 378, 410, 1, 2, 3});
    for (std::size_t i = 0; i < m.slot_mapping.size(); ++i) m.slot_mapping[i] = static_cast<std::int64_t>(i);
    m.logits_rows = {8, 3};
    m.max_blocks_per_seq = 1;
    m.block_tables = {0};
    return m;
  }();
  auto run = [&](Backend& b, model::LlamaModel& llama) {
    auto cache = b.allocate_kv_cache(llama.kv_spec(1, 16, b.activation_dtype()));
    std::vector<float> logits;
    llama.forward(meta, cache, logits);
    return logits;
  };
  std::vector<float> whole;
  {
    auto g = gpu(DType::f32);
    model::LlamaModel llama(loaded.config, loaded.weights, *g);
    whole = run(*g, llama);
  }
  const auto id = lib->unique_id();
  std::vector<std::vector<float>> ranks(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      try {
        auto g = gpu(DType::f32, r);
        auto group = cuda::make_nccl_collective(lib, *g, id, r, 2);
        model::LlamaModel llama(model::shard_config(loaded.config, r, 2),
                                model::shard_weights(loaded.config, loaded.weights, r, 2), *g);
        llama.join_tensor_parallel_group(*group);
        ranks[r] = run(*g, llama);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(errors[0].empty());
  REQUIRE(errors[1].empty());
  CHECK(ranks[0] == ranks[1]);  // NCCL hands every rank the same sums
  REQUIRE(ranks[0].size() == whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) REQUIRE(ranks[0][i] == Approx(whole[i]).epsilon(1e-4).margin(1e-4));
}

TEST_CASE("TP 2 and PP 2 as threads of one engine, one GPU a rank, reproduce the reference stories", "[gpu][nccl][multi-gpu]") {
  if (cuda_device_count() < 2) {
    WARN("one GPU: a GPU split needs one GPU a rank (skipped)");
    return;
  }
  find_cuda_module();
  auto loaded = model::load_model(testing::stories260k_dir());
  for (auto [tp, pp] : {std::pair{2, 1}, std::pair{1, 2}}) {
    INFO("TP " << tp << " x PP " << pp);
    actors::EngineConfig config;
    config.device = "cuda";
    config.dtype = "f32";
    config.tensor_parallel_size = tp;
    config.pipeline_parallel_size = pp;
    const actors::KvPoolSizes pools{256, 0};
    auto built = actors::build_parallel_executor(config, loaded.config, loaded.weights,
                                                 [&](model::LlamaModel&) { return pools; }, nullptr);
    engine::GeneratorConfig c;
    c.blocks.block_size = 16;
    c.blocks.num_gpu_blocks = 256;
    c.blocks.watermark = 0;
    engine::Generator gen(loaded.config, built.executor, loaded.tokenizer.get(), c);
    // PP 2 is the unsplit arithmetic (f32 through host memory is exact);
    // TP 2 splits the GEMMs as the CPU's TP 2 does, which keeps them.
    testing::check_reference_stories(gen);
  }
}
