// Randomized operations against the block manager, with every invariant
// checked after every step. A simulated KV store (one token id per slot) is
// written the way an executor would: new tokens at their slots, copy-on-write
// and swap copies as planned. Reading each sequence back through its block
// table must give its tokens, which checks sharing, copy-on-write, swapping
// and prefix-cache hits end to end.

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "memory/block_manager.hpp"

using namespace pagedserve::memory;

namespace {

constexpr int kEmpty = -1;

struct Harness {
  BlockManager bm;
  int bs;
  std::vector<std::int32_t> gpu_store, cpu_store;  // token id per slot
  std::map<SeqId, std::vector<std::int32_t>> expected;
  std::map<SeqId, int> group_of;
  SeqId next_id = 1;
  std::mt19937 rng;
  std::vector<std::vector<std::int32_t>> bases;  // shared prompt prefixes

  Harness(const BlockManagerConfig& cfg, unsigned seed)
      : bm(cfg), bs(cfg.block_size),
        gpu_store(static_cast<std::size_t>(cfg.num_gpu_blocks) * cfg.block_size, kEmpty),
        cpu_store(static_cast<std::size_t>(cfg.num_cpu_blocks) * cfg.block_size, kEmpty), rng(seed) {
    for (int b = 0; b < 4; ++b) {
      std::vector<std::int32_t> base(40);
      for (auto& t : base) t = static_cast<std::int32_t>(rng() % 50);
      bases.push_back(base);
    }
  }

  int rand(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  std::vector<std::int32_t>& store(SeqId id) {
    return bm.location(id) == Device::gpu ? gpu_store : cpu_store;
  }

  // The executor's part: write tokens [from, to) of `id` into their slots.
  void write(SeqId id, int from, int to) {
    const auto& tokens = bm.tokens(id);
    for (int p = from; p < to; ++p) store(id)[bm.slot(id, p)] = tokens[p];
    bm.mark_computed(id, to);
  }

  static void copy_blocks(const std::vector<BlockCopy>& copies, const std::vector<std::int32_t>& src,
                          std::vector<std::int32_t>& dst, int bs) {
    for (const auto& c : copies)
      std::copy_n(src.begin() + c.src * bs, bs, dst.begin() + c.dst * bs);
  }

  std::vector<SeqId> seqs_on(Device d) {
    std::vector<SeqId> out;
    for (auto& [id, t] : expected)
      if (bm.location(id) == d) out.push_back(id);
    return out;
  }

  std::vector<SeqId> group(SeqId member) {
    std::vector<SeqId> out;
    for (auto& [id, g] : group_of)
      if (g == group_of[member]) out.push_back(id);
    return out;
  }

  void op_allocate() {
    auto prompt = bases[rand(4)];
    prompt.resize(1 + rand(40));
    for (int i = rand(3); i > 0; --i) prompt.push_back(static_cast<std::int32_t>(rng() % 50));
    const auto status = bm.can_allocate(prompt);
    SeqId id = next_id;
    int cached = 0;
    if (rand(2) == 0) {
      // The one call that can say no agrees with the check, and a no leaves no trace.
      const auto a = bm.try_allocate(id, prompt);
      REQUIRE(a.status == status);
      if (a.status != AllocStatus::ok) {
        REQUIRE_FALSE(bm.contains(id));
        return;
      }
      cached = a.num_cached_tokens;
    } else {
      if (status != AllocStatus::ok) return;
      cached = bm.allocate(id, prompt);
    }
    ++next_id;
    REQUIRE(cached % bs == 0);
    REQUIRE(cached < static_cast<int>(prompt.size()));
    expected[id] = prompt;
    group_of[id] = static_cast<int>(id);
    // Cached tokens must already be in the store; only the rest is written.
    for (int p = 0; p < cached; ++p) REQUIRE(gpu_store[bm.slot(id, p)] == prompt[p]);
    write(id, cached, static_cast<int>(prompt.size()));
  }

  void op_append() {
    auto on_gpu = seqs_on(Device::gpu);
    if (on_gpu.empty()) return;
    SeqId id = on_gpu[rand(static_cast<int>(on_gpu.size()))];
    std::vector<std::int32_t> tokens(1 + rand(bs + 2));
    for (auto& t : tokens) t = static_cast<std::int32_t>(rng() % 50);
    if (!bm.can_append(id, static_cast<int>(tokens.size()))) return;
    int before = bm.num_tokens(id);
    auto cow = bm.append(id, tokens);
    if (cow) copy_blocks({*cow}, gpu_store, gpu_store, bs);
    expected[id].insert(expected[id].end(), tokens.begin(), tokens.end());
    write(id, before, bm.num_tokens(id));
  }

  void op_fork() {
    auto on_gpu = seqs_on(Device::gpu);
    if (on_gpu.empty()) return;
    SeqId parent = on_gpu[rand(static_cast<int>(on_gpu.size()))];
    SeqId child = next_id++;
    bm.fork(parent, child);
    expected[child] = expected[parent];
    group_of[child] = group_of[parent];
  }

  void op_free() {
    if (expected.empty()) return;
    auto it = std::next(expected.begin(), rand(static_cast<int>(expected.size())));
    bm.free(it->first);
    group_of.erase(it->first);
    expected.erase(it);
  }

  void op_swap_out() {
    auto on_gpu = seqs_on(Device::gpu);
    if (on_gpu.empty()) return;
    auto g = group(on_gpu[rand(static_cast<int>(on_gpu.size()))]);
    if (!bm.can_swap_out(g)) return;
    copy_blocks(bm.swap_out(g), gpu_store, cpu_store, bs);
  }

  void op_swap_in() {
    auto on_cpu = seqs_on(Device::cpu);
    if (on_cpu.empty()) return;
    auto g = group(on_cpu[rand(static_cast<int>(on_cpu.size()))]);
    if (bm.can_swap_in(g) != AllocStatus::ok) return;
    copy_blocks(bm.swap_in(g), cpu_store, gpu_store, bs);
  }

  void check_pool(const BlockPool& pool, Device d) {
    std::vector<int> owners(pool.num_blocks(), 0);
    for (auto& [id, tokens] : expected)
      if (bm.location(id) == d)
        for (auto b : bm.block_table(id)) ++owners[b];
    int num_zero = 0;
    for (int b = 0; b < pool.num_blocks(); ++b) {
      const Block& blk = pool.block(b);
      REQUIRE(blk.ref_count == owners[b]);
      REQUIRE(blk.in_free_queue == (blk.ref_count == 0));
      num_zero += blk.ref_count == 0;
    }
    REQUIRE(pool.num_free() == num_zero);
    REQUIRE(pool.num_free() + pool.num_used() == pool.num_blocks());
  }

  void check_invariants() {
    check_pool(bm.gpu_pool(), Device::gpu);
    check_pool(bm.cpu_pool(), Device::cpu);
    for (auto& [id, tokens] : expected) {
      REQUIRE(bm.tokens(id) == tokens);
      REQUIRE(static_cast<int>(bm.block_table(id).size()) == (static_cast<int>(tokens.size()) + bs - 1) / bs);
      auto& st = store(id);
      for (int p = 0; p < static_cast<int>(tokens.size()); ++p) REQUIRE(st[bm.slot(id, p)] == tokens[p]);
    }
    // A cached block holds exactly the tokens it was hashed from.
    const BlockPool& gpu = bm.gpu_pool();
    for (int b = 0; b < gpu.num_blocks(); ++b) {
      const Block& blk = gpu.block(b);
      if (!blk.hash) continue;
      REQUIRE(static_cast<int>(blk.token_ids.size()) == bs);
      for (int i = 0; i < bs; ++i) REQUIRE(gpu_store[b * bs + i] == blk.token_ids[i]);
    }
  }
};

void run_random(const BlockManagerConfig& cfg, unsigned seed, int num_ops) {
  Harness h(cfg, seed);
  for (int i = 0; i < num_ops; ++i) {
    switch (h.rand(12)) {
      case 0: case 1: case 2: h.op_allocate(); break;
      case 3: case 4: case 5: h.op_append(); break;
      case 6: h.op_fork(); break;
      case 7: case 8: h.op_free(); break;
      case 9: h.op_swap_out(); break;
      default: h.op_swap_in(); break;
    }
    h.check_invariants();
  }
  while (!h.expected.empty()) h.op_free();
  h.check_invariants();
  auto st = h.bm.stats();
  CHECK(st.gpu.num_free == cfg.num_gpu_blocks);  // all free or cached-evictable
  CHECK(st.cpu.num_free == cfg.num_cpu_blocks);
  if (cfg.enable_prefix_caching) CHECK(st.num_prefix_hits > 0);
  if (cfg.block_size > 1) CHECK(st.num_cow_copies > 0);  // size-1 blocks are never partly full
  CHECK(st.num_swapped_out_blocks > 0);
  CHECK(st.num_swapped_in_blocks > 0);
}

}  // namespace

static BlockManagerConfig random_config(int block_size, int gpu, int cpu, bool caching, double watermark) {
  BlockManagerConfig cfg;
  cfg.block_size = block_size;
  cfg.num_gpu_blocks = gpu;
  cfg.num_cpu_blocks = cpu;
  cfg.enable_prefix_caching = caching;
  cfg.watermark = watermark;
  return cfg;
}

TEST_CASE("random operations keep every invariant (block size 4, caching)", "[block_manager][random]") {
  run_random(random_config(4, 64, 48, true, 0.05), 1, 12000);
}

TEST_CASE("random operations keep every invariant (block size 16, tight pool)", "[block_manager][random]") {
  run_random(random_config(16, 24, 24, true, 0.01), 2, 10000);
}

TEST_CASE("random operations keep every invariant (block size 1, no caching)", "[block_manager][random]") {
  run_random(random_config(1, 200, 150, false, 0.01), 3, 10000);
}
