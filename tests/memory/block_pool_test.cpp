#include "memory/block_pool.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace pagedserve::memory;

TEST_CASE("block pool allocates every block once, then runs out", "[block_pool]") {
  BlockPool pool(4);
  std::vector<std::int32_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(pool.allocate());
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::int32_t>{0, 1, 2, 3});
  CHECK(pool.num_free() == 0);
  CHECK(pool.num_used() == 4);
  CHECK_THROWS_AS(pool.allocate(), std::logic_error);
}

TEST_CASE("block pool frees at zero references, in LRU order", "[block_pool]") {
  BlockPool pool(3);
  auto a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  pool.add_ref(b);
  pool.release(b);
  CHECK(pool.num_free() == 0);  // b still has one reference
  pool.release(c);
  pool.release(b);
  pool.release(a);
  CHECK(pool.num_free() == 3);
  // Least recently freed first.
  CHECK(pool.allocate() == c);
  CHECK(pool.allocate() == b);
  CHECK(pool.allocate() == a);
}

TEST_CASE("releasing a free block is a caller bug", "[block_pool]") {
  BlockPool pool(2);
  auto a = pool.allocate();
  pool.release(a);
  CHECK_THROWS_AS(pool.release(a), std::logic_error);
  CHECK_THROWS_AS(pool.add_ref(a), std::logic_error);
}

TEST_CASE("cached blocks are found, revived from the free queue, and evicted lazily", "[block_pool][prefix]") {
  BlockPool pool(2);
  std::vector<std::int32_t> tokens{5, 6, 7, 8};
  auto h = hash_block(0, tokens);
  auto a = pool.allocate();
  REQUIRE(pool.insert_cached(a, h, 0, tokens));
  CHECK_FALSE(pool.insert_cached(a, h, 0, tokens));
  pool.release(a);
  CHECK(pool.num_free() == 2);
  REQUIRE(pool.lookup(h, 0, tokens) == a);

  // A hit takes the free block out of the queue in O(1).
  pool.acquire_cached(a);
  CHECK(pool.num_free() == 1);
  CHECK(pool.block(a).ref_count == 1);
  pool.release(a);

  // The other free block is older, so it is allocated first; the cached one
  // survives until its memory is needed.
  auto b = pool.allocate();
  CHECK(b != a);
  CHECK(pool.lookup(h, 0, tokens) == a);
  auto c = pool.allocate();
  CHECK(c == a);
  CHECK_FALSE(pool.lookup(h, 0, tokens).has_value());
  CHECK(pool.num_cached() == 0);
}

TEST_CASE("a lookup confirms the tokens and the parent, not just the hash", "[block_pool][prefix]") {
  BlockPool pool(1);
  std::vector<std::int32_t> tokens{1, 2};
  auto a = pool.allocate();
  pool.insert_cached(a, 42, 7, tokens);
  CHECK(pool.lookup(42, 7, tokens) == a);
  CHECK_FALSE(pool.lookup(42, 8, tokens).has_value());
  std::vector<std::int32_t> other{1, 3};
  CHECK_FALSE(pool.lookup(42, 7, other).has_value());
}

TEST_CASE("block hashes depend on the parent and on every token", "[block_pool][prefix]") {
  std::vector<std::int32_t> t1{1, 2, 3}, t2{1, 2, 4}, t3{1, 2};
  CHECK(hash_block(0, t1) == hash_block(0, t1));
  CHECK(hash_block(0, t1) != hash_block(0, t2));
  CHECK(hash_block(0, t1) != hash_block(1, t1));
  CHECK(hash_block(0, t1) != hash_block(0, t3));
}
