// The responses kept for previous_response_id: bounded by count and by
// bytes, the oldest forgotten first.

#include "net/response_store.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

TEST_CASE("the store keeps the newest responses within its count and byte bounds", "[responses]") {
  ResponseStore store(3, 100);
  for (int i = 0; i < 5; ++i) store.put("r" + std::to_string(i), {{"user", "hello " + std::to_string(i)}});
  CHECK(store.size() == 3);
  CHECK_FALSE(store.get("r0"));
  CHECK_FALSE(store.get("r1"));
  REQUIRE(store.get("r4"));
  CHECK(store.get("r4")->front().content == "hello 4");
  // A large conversation pushes out as many old ones as its bytes need.
  store.put("big", {{"user", std::string(80, 'x')}});
  CHECK(store.get("big"));
  CHECK_FALSE(store.get("r2"));
  CHECK_FALSE(store.get("r3"));
  // One that could never fit is not kept, and forgets nothing.
  store.put("huge", {{"user", std::string(200, 'x')}});
  CHECK_FALSE(store.get("huge"));
  CHECK(store.get("big"));
}
