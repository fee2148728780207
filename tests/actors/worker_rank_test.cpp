// A worker's rank of a split model refuses, by name and before any
// rendezvous, what it cannot run: an address its peers cannot reach, a
// rank outside the split, a device Gloo does not serve, a split the model
// does not allow.

#include "actors/worker_rank.hpp"

#include <catch2/catch.hpp>

#include "actors/rendezvous.hpp"

using namespace pagedserve;

TEST_CASE("a worker's rank refuses what it cannot run before meeting the others", "[worker_rank]") {
  auto runtime = actors::make_runtime(false);
  auto rendezvous = actors::spawn_rendezvous(*runtime.system);
  const auto loaded = model::load_model("dummy:stories260K");
  auto build = [&](int tp, int pp, int rank, const std::string& host, const std::string& device = "cpu") {
    actors::EngineConfig config;
    config.device = device;
    config.tensor_parallel_size = tp;
    config.pipeline_parallel_size = pp;
    config.num_gpu_blocks = 16;
    return actors::build_worker_rank(*runtime.system, config, loaded, rank, rendezvous, host, 256, nullptr);
  };
  CHECK_THROWS_WITH(build(2, 1, 0, "0.0.0.0"), Catch::Contains("'0.0.0.0' is none they can reach"));
  CHECK_THROWS_WITH(build(2, 1, 0, "::"), Catch::Contains("is none they can reach"));
  CHECK_THROWS_WITH(build(2, 2, 4, "127.0.0.1"), Catch::Contains("rank 4 is not in the split"));
  CHECK_THROWS_WITH(build(2, 1, 0, "127.0.0.1", "cuda:0"), Catch::Contains("--device cpu only"));
  CHECK_THROWS_WITH(build(3, 1, 0, "127.0.0.1"), Catch::Contains("not divisible by the tensor-parallel size 3"));
  caf::anon_send_exit(rendezvous, caf::exit_reason::user_shutdown);
}
