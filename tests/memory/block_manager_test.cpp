#include "memory/block_manager.hpp"

#include <catch2/catch.hpp>
#include <numeric>
#include <vector>

using namespace pagedserve::memory;

namespace {

std::vector<std::int32_t> iota_tokens(int n, int first = 100) {
  std::vector<std::int32_t> t(n);
  std::iota(t.begin(), t.end(), first);
  return t;
}

BlockManagerConfig small_config(int gpu, int cpu = 0, bool caching = true) {
  BlockManagerConfig c;
  c.block_size = 4;
  c.num_gpu_blocks = gpu;
  c.num_cpu_blocks = cpu;
  c.enable_prefix_caching = caching;
  c.watermark = 0;
  return c;
}

}  // namespace

TEST_CASE("a prompt gets ceil(len / block_size) blocks and slots follow the table", "[block_manager]") {
  BlockManager bm(small_config(8));
  auto prompt = iota_tokens(10);
  REQUIRE(bm.can_allocate(prompt) == AllocStatus::ok);
  CHECK(bm.allocate(1, prompt) == 0);
  const auto& table = bm.block_table(1);
  REQUIRE(table.size() == 3);
  CHECK(bm.num_free_gpu_blocks() == 5);
  CHECK(bm.slot(1, 0) == table[0] * 4);
  CHECK(bm.slot(1, 9) == table[2] * 4 + 1);
  CHECK_THROWS_AS(bm.slot(1, 10), std::logic_error);
}

TEST_CASE("appending allocates a block only when the last one is full", "[block_manager]") {
  BlockManager bm(small_config(8));
  auto prompt = iota_tokens(3);
  bm.allocate(1, prompt);
  CHECK(bm.block_table(1).size() == 1);
  std::int32_t t = 7;
  CHECK_FALSE(bm.append(1, {&t, 1}).has_value());  // fills block 0
  CHECK(bm.block_table(1).size() == 1);
  bm.append(1, {&t, 1});                           // needs block 1
  CHECK(bm.block_table(1).size() == 2);
  CHECK(bm.num_tokens(1) == 5);
}

TEST_CASE("admission says later when full and never when the pool is too small", "[block_manager]") {
  BlockManager bm(small_config(4));
  CHECK(bm.can_allocate(iota_tokens(17)) == AllocStatus::never);
  CHECK_FALSE(bm.check_fits(17, 0).empty());
  CHECK(bm.check_fits(16, 0).empty());
  bm.allocate(1, iota_tokens(12));
  CHECK(bm.can_allocate(iota_tokens(8, 500)) == AllocStatus::later);
  CHECK(bm.can_allocate(iota_tokens(4, 500)) == AllocStatus::ok);
  CHECK_THROWS_AS(bm.allocate(2, iota_tokens(8, 500)), std::logic_error);
}

TEST_CASE("requests longer than max_model_len are refused with a clear message", "[block_manager]") {
  auto cfg = small_config(100);
  cfg.max_model_len = 32;
  BlockManager bm(cfg);
  auto why = bm.check_fits(30, 10);
  CHECK(why.find("maximum length of 32") != std::string::npos);
  CHECK(bm.check_fits(0, 10) == "the prompt is empty");
  CHECK(bm.can_allocate(iota_tokens(33)) == AllocStatus::never);
}

TEST_CASE("the watermark keeps blocks back at admission", "[block_manager]") {
  auto cfg = small_config(10);
  cfg.watermark = 0.2;  // 2 blocks
  BlockManager bm(cfg);
  CHECK(bm.can_allocate(iota_tokens(33)) == AllocStatus::never);  // 9 blocks > 10 - 2
  bm.allocate(1, iota_tokens(24));                                 // 6 blocks, 4 free
  CHECK(bm.can_allocate(iota_tokens(12, 500)) == AllocStatus::later);  // 4 - 3 < 2
  CHECK(bm.can_allocate(iota_tokens(8, 500)) == AllocStatus::ok);
}

TEST_CASE("fork shares every block, and a shared partial block is copied on write", "[block_manager][cow]") {
  BlockManager bm(small_config(8));
  bm.allocate(1, iota_tokens(6));  // blocks: full + half
  bm.fork(1, 2);
  CHECK(bm.block_table(2) == bm.block_table(1));
  CHECK(bm.gpu_pool().block(bm.block_table(1)[0]).ref_count == 2);
  CHECK(bm.stats().gpu.num_shared == 2);

  std::int32_t t = 9;
  auto shared_last = bm.block_table(2)[1];
  REQUIRE(bm.can_append(2));
  auto cow = bm.append(2, {&t, 1});
  REQUIRE(cow.has_value());
  CHECK(cow->src == shared_last);
  CHECK(cow->dst == bm.block_table(2)[1]);
  CHECK(bm.block_table(2)[1] != bm.block_table(1)[1]);
  CHECK(bm.block_table(2)[0] == bm.block_table(1)[0]);  // full block stays shared
  // The parent now owns its last block alone: no copy.
  CHECK_FALSE(bm.append(1, {&t, 1}).has_value());
  CHECK(bm.stats().num_cow_copies == 1);
}

TEST_CASE("appending to a shared full block needs no copy", "[block_manager][cow]") {
  BlockManager bm(small_config(8));
  bm.allocate(1, iota_tokens(8));
  bm.fork(1, 2);
  std::int32_t t = 1;
  CHECK_FALSE(bm.append(2, {&t, 1}).has_value());
  CHECK(bm.block_table(2).size() == 3);
}

TEST_CASE("freeing drops references and blocks free when the last owner goes", "[block_manager]") {
  BlockManager bm(small_config(8, 0, false));
  bm.allocate(1, iota_tokens(8));
  bm.fork(1, 2);
  bm.free(1);
  CHECK(bm.num_free_gpu_blocks() == 6);
  bm.free(2);
  CHECK(bm.num_free_gpu_blocks() == 8);
  CHECK_THROWS_AS(bm.free(2), std::logic_error);
}

TEST_CASE("swap out and in keeps tokens, sharing and the mapping", "[block_manager][swap]") {
  BlockManager bm(small_config(8, 8));
  bm.allocate(1, iota_tokens(6));
  bm.fork(1, 2);
  std::int32_t t = 3;
  bm.append(2, {&t, 1});  // copy-on-write: 3 unique blocks in the group
  std::vector<SeqId> group{1, 2};
  auto gpu_tables = std::vector{bm.block_table(1), bm.block_table(2)};

  REQUIRE(bm.can_swap_out(group));
  auto out = bm.swap_out(group);
  CHECK(out.size() == 3);
  CHECK(bm.location(1) == Device::cpu);
  CHECK(bm.num_free_gpu_blocks() == 8);
  CHECK(bm.num_free_cpu_blocks() == 5);
  CHECK(bm.block_table(1)[0] == bm.block_table(2)[0]);  // still shared on the CPU
  for (const auto& c : out) {
    bool known = false;
    for (auto& table : gpu_tables) known |= std::find(table.begin(), table.end(), c.src) != table.end();
    CHECK(known);
  }
  CHECK_FALSE(bm.can_append(1));  // a swapped sequence cannot grow

  REQUIRE(bm.can_swap_in(group) == AllocStatus::ok);
  auto in = bm.swap_in(group);
  CHECK(in.size() == 3);
  CHECK(bm.location(2) == Device::gpu);
  CHECK(bm.num_free_cpu_blocks() == 8);
  CHECK(bm.tokens(2).back() == 3);
  CHECK(bm.stats().num_swapped_out_blocks == 3);
  CHECK(bm.stats().num_swapped_in_blocks == 3);
}

TEST_CASE("swap capacity is respected in both directions", "[block_manager][swap]") {
  BlockManager bm(small_config(4, 2));
  bm.allocate(1, iota_tokens(12));
  std::vector<SeqId> group{1};
  CHECK_FALSE(bm.can_swap_out(group));
  CHECK_THROWS_AS(bm.swap_out(group), std::logic_error);
  bm.free(1);
  bm.allocate(2, iota_tokens(8));
  std::vector<SeqId> g2{2};
  bm.swap_out(g2);
  bm.allocate(3, iota_tokens(16, 900));
  CHECK(bm.can_swap_in(g2) == AllocStatus::later);
  bm.free(3);
  CHECK(bm.can_swap_in(g2) == AllocStatus::ok);
}

TEST_CASE("a repeated prompt reuses computed full blocks from the prefix cache", "[block_manager][prefix]") {
  BlockManager bm(small_config(16));
  auto prompt = iota_tokens(10);
  CHECK(bm.allocate(1, prompt) == 0);
  bm.mark_computed(1, 10);
  auto first_table = bm.block_table(1);

  CHECK(bm.allocate(2, prompt) == 8);  // two full blocks; the tail is recomputed
  CHECK(bm.block_table(2)[0] == first_table[0]);
  CHECK(bm.block_table(2)[1] == first_table[1]);
  CHECK(bm.block_table(2)[2] != first_table[2]);
  auto st = bm.stats();
  CHECK(st.num_prefix_queries == 4);
  CHECK(st.num_prefix_hits == 2);
}

TEST_CASE("only computed blocks are offered to other requests", "[block_manager][prefix]") {
  BlockManager bm(small_config(16));
  auto prompt = iota_tokens(12);
  bm.allocate(1, prompt);
  CHECK(bm.allocate(2, prompt) == 0);  // nothing computed yet
  bm.mark_computed(1, 5);              // only block 0 is full and computed
  CHECK(bm.allocate(3, prompt) == 4);
}

TEST_CASE("a prefix hit must match from the first block on", "[block_manager][prefix]") {
  BlockManager bm(small_config(16));
  auto prompt = iota_tokens(12);
  bm.allocate(1, prompt);
  bm.mark_computed(1, 12);
  auto other = prompt;
  other[1] = 7;  // first block differs: later blocks must not hit
  CHECK(bm.allocate(2, other) == 0);
}

TEST_CASE("freed cached blocks stay reusable until their memory is needed", "[block_manager][prefix]") {
  BlockManager bm(small_config(4));
  auto prompt = iota_tokens(9);  // 3 blocks, 2 cacheable
  bm.allocate(1, prompt);
  bm.mark_computed(1, 9);
  bm.free(1);
  CHECK(bm.stats().gpu.num_cached == 2);
  CHECK(bm.allocate(2, prompt) == 8);
  bm.free(2);
  // A different 16-token prompt needs all four blocks: the cache is evicted.
  bm.allocate(3, iota_tokens(16, 500));
  CHECK(bm.stats().gpu.num_cached == 0);
  bm.free(3);
  CHECK(bm.allocate(4, prompt) == 0);
}

TEST_CASE("prefix caching can be switched off", "[block_manager][prefix]") {
  BlockManager bm(small_config(16, 0, false));
  auto prompt = iota_tokens(10);
  bm.allocate(1, prompt);
  bm.mark_computed(1, 10);
  CHECK(bm.allocate(2, prompt) == 0);
  CHECK(bm.stats().num_prefix_queries == 0);
}

TEST_CASE("utilization counts real tokens in used blocks, shared blocks once", "[block_manager][stats]") {
  BlockManager bm(small_config(16));
  bm.allocate(1, iota_tokens(6));  // 2 blocks, 6 of 8 slots
  auto st = bm.stats();
  CHECK(st.num_token_slots == 8);
  CHECK(st.num_tokens_stored == 6);
  bm.fork(1, 2);
  st = bm.stats();
  CHECK(st.num_token_slots == 8);
  CHECK(st.num_tokens_stored == 6);
  CHECK(st.utilization() == Approx(0.75));
}
