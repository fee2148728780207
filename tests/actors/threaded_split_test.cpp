// The setup of a model split over GPUs (actors::build_threaded_split, what
// build_parallel_executor runs for --device cuda), with its GPU parts put
// in by the test: CPU backends, and each stage's group an in-process group
// that the ranks join by the id their rank 0 made and handed out through
// the rendezvous actor, as NCCL's communicators are joined. Every rank is
// set up on its own thread; their profiling passes meet in the groups and
// links; the pools are the smallest any rank allows; a rank that fails
// releases the others and its error comes out.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>

#include "actors/engine_start.hpp"
#include "engine/generator.hpp"
#include "engine/kv_planner.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "model/loader.hpp"
#include "../engine/reference_generation.hpp"

using namespace pagedserve;

namespace {

// NCCL's part: an in-process group per id, joined by whoever brings it.
class StandInGroups {
 public:
  kernels::NcclUniqueId new_id() {
    kernels::NcclUniqueId id;
    const int n = ++made_;
    id.internal[0] = static_cast<char>(n);
    id.internal[127] = static_cast<char>(0x5a);
    return id;
  }

  std::unique_ptr<kernels::NcclCollective> join(const kernels::NcclUniqueId& id, int index, int world) {
    std::lock_guard lock(mutex_);
    auto& group = groups_[std::string(id.internal.begin(), id.internal.end())];
    if (!group) group = kernels::make_in_process_group(world);
    joined_.push_back({id, index});
    return std::make_unique<Member>(group, index);
  }

  // The ids the ranks joined with, and which index brought each.
  std::vector<std::pair<kernels::NcclUniqueId, int>> joined() {
    std::lock_guard lock(mutex_);
    return joined_;
  }
  int made() const { return made_; }

 private:
  class Member final : public kernels::NcclCollective {
   public:
    Member(std::shared_ptr<kernels::CollectiveGroup> group, int index) : group_(std::move(group)), index_(index) {}
    int rank() const override { return index_; }
    int world_size() const override { return group_->world_size(); }
    void all_reduce_sum(kernels::Tensor t) override { group_->member(index_).all_reduce_sum(t); }
    void all_gather_columns(const kernels::Tensor& local, kernels::Tensor out) override {
      group_->member(index_).all_gather_columns(local, out);
    }
    void abort() override { group_->abort(); }

   private:
    std::shared_ptr<kernels::CollectiveGroup> group_;
    int index_;
  };

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<kernels::CollectiveGroup>> groups_;
  std::vector<std::pair<kernels::NcclUniqueId, int>> joined_;
  std::atomic<int> made_{0};
};

actors::ThreadedSplit stand_in(StandInGroups& groups) {
  actors::ThreadedSplit split;
  split.backend = [](int) { return kernels::make_cpu_backend(); };
  split.new_group_id = [&groups] { return groups.new_id(); };
  split.join_group = [&groups](kernels::Backend&, const kernels::NcclUniqueId& id, int index, int world) {
    return groups.join(id, index, world);
  };
  split.kind = ", stand-in groups";
  return split;
}

actors::EngineConfig split_config(int tp, int pp) {
  actors::EngineConfig config;
  config.tensor_parallel_size = tp;
  config.pipeline_parallel_size = pp;
  return config;
}

}  // namespace

TEST_CASE("a split set up rank by rank on threads meets in its groups and reproduces llama2.c", "[actors][tp][pp][nccl]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  StandInGroups groups;
  // Each rank's pass runs the model (its collectives and links meet the
  // others'), then brings a size of its own: every rank gets the smallest.
  std::atomic<int> calls{0};
  auto size_pools = [&](model::LlamaModel& llama) {
    engine::plan_kv_pools(llama, {0.9, 0.0, 16, 64, 4});
    const int k = calls++;
    return actors::KvPoolSizes{300 - 10 * k, 40 - k};
  };
  auto built = actors::build_threaded_split(split_config(2, 2), loaded.config, loaded.weights, size_pools, nullptr,
                                            stand_in(groups));
  CHECK(calls == 4);
  CHECK(built.sizes.num_gpu_blocks == 270);
  CHECK(built.sizes.num_cpu_blocks == 37);
  CHECK(built.executor->name().find("tensor parallel 2 x pipeline parallel 2, stand-in groups") != std::string::npos);
  // One id a stage, made by its rank 0; each rank joined with its stage's.
  CHECK(groups.made() == 2);
  const auto joined = groups.joined();
  REQUIRE(joined.size() == 4);
  std::map<std::string, std::vector<int>> by_id;
  for (const auto& [id, index] : joined) by_id[std::string(id.internal.begin(), id.internal.end())].push_back(index);
  REQUIRE(by_id.size() == 2);
  for (auto& [id, indices] : by_id) {
    std::sort(indices.begin(), indices.end());
    CHECK(indices == std::vector<int>{0, 1});
  }

  engine::GeneratorConfig c;
  c.blocks.block_size = 16;
  c.blocks.num_gpu_blocks = built.sizes.num_gpu_blocks;
  c.blocks.num_cpu_blocks = 0;
  c.blocks.watermark = 0;
  engine::Generator gen(loaded.config, built.executor, loaded.tokenizer.get(), c);
  testing::check_reference_stories(gen);
}

TEST_CASE("a rank that fails while the split is set up releases the others, and its error comes out", "[actors][tp][nccl]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  for (int failing : {0, 1, 3}) {
    INFO("rank " << failing << " fails");
    StandInGroups groups;
    std::atomic<int> calls{0};
    auto split = stand_in(groups);
    // The failing rank's backend is made, but its group never joined:
    // the others wait in their profiling passes' collectives and links,
    // and in the pool agreement, until the failure releases them.
    const auto join = split.join_group;
    split.join_group = [&, join](kernels::Backend& b, const kernels::NcclUniqueId& id, int index, int world) {
      if (calls++ == failing) throw std::runtime_error("no group for this rank");
      return join(b, id, index, world);
    };
    auto size_pools = [&](model::LlamaModel& llama) {
      engine::plan_kv_pools(llama, {0.9, 0.0, 16, 64, 4});
      return actors::KvPoolSizes{64, 0};
    };
    CHECK_THROWS_WITH(actors::build_threaded_split(split_config(2, 2), loaded.config, loaded.weights, size_pools,
                                                   nullptr, split),
                      Catch::Contains("no group for this rank"));
  }
  // A rank that fails before its profiling pass leaves the others waiting
  // in its collectives and links; one that fails after it, in the pool
  // agreement.
  for (bool before : {true, false}) {
    INFO((before ? "before" : "after") << " the pass");
    StandInGroups groups;
    std::atomic<int> calls{0};
    auto size_pools = [&](model::LlamaModel& llama) {
      const bool fail = calls++ == 2;
      if (fail && before) throw std::runtime_error("this rank's pass failed");
      engine::plan_kv_pools(llama, {0.9, 0.0, 16, 64, 4});
      if (fail) throw std::runtime_error("this rank's pass failed");
      return actors::KvPoolSizes{64, 0};
    };
    CHECK_THROWS_WITH(actors::build_threaded_split(split_config(2, 2), loaded.config, loaded.weights, size_pools,
                                                   nullptr, stand_in(groups)),
                      Catch::Contains("this rank's pass failed"));
    CHECK(calls == 4);  // every rank reached its pass
  }
}
