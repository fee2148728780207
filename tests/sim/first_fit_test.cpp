#include "sim/first_fit.hpp"

#include <catch2/catch.hpp>
#include <random>

using pagedserve::sim::FirstFitAllocator;

TEST_CASE("first fit takes the lowest hole that fits", "[first_fit]") {
  FirstFitAllocator a(100);
  CHECK(a.allocate(30) == 0);
  CHECK(a.allocate(30) == 30);
  CHECK(a.allocate(30) == 60);
  CHECK_FALSE(a.allocate(30).has_value());
  a.free(0, 30);
  a.free(60, 30);
  // 70 slots free, but in holes of 30 and 40: external fragmentation.
  CHECK(a.num_free() == 70);
  CHECK(a.largest_free_extent() == 40);
  CHECK_FALSE(a.allocate(50).has_value());
  CHECK(a.allocate(35) == 60);  // the first hole (30) is too small
  CHECK(a.allocate(20) == 0);
}

TEST_CASE("freeing coalesces neighbours and refuses double frees", "[first_fit]") {
  FirstFitAllocator a(90);
  a.allocate(30);
  a.allocate(30);
  a.allocate(30);
  a.free(30, 30);
  a.free(0, 30);
  a.free(60, 30);
  CHECK(a.num_extents() == 1);
  CHECK(a.largest_free_extent() == 90);
  CHECK_THROWS_AS(a.free(10, 5), std::logic_error);
  CHECK_THROWS_AS(a.free(80, 20), std::logic_error);
}

TEST_CASE("random allocations and frees keep the free count exact", "[first_fit]") {
  FirstFitAllocator a(1000);
  std::mt19937 rng(3);
  std::vector<std::pair<std::int64_t, std::int64_t>> live;
  std::int64_t used = 0;
  for (int i = 0; i < 5000; ++i) {
    if (live.empty() || rng() % 2) {
      std::int64_t size = 1 + rng() % 60;
      if (auto start = a.allocate(size)) {
        for (auto& [s, n] : live) REQUIRE((*start + size <= s || s + n <= *start));  // no overlap
        live.emplace_back(*start, size);
        used += size;
      }
    } else {
      auto k = rng() % live.size();
      a.free(live[k].first, live[k].second);
      used -= live[k].second;
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
    REQUIRE(a.num_free() == 1000 - used);
  }
}
