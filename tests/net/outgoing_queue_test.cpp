// The bounded per-connection output queue.

#include "net/outgoing_queue.hpp"

#include <catch2/catch.hpp>

using pagedserve::net::OutgoingQueue;

TEST_CASE("push refuses past the bound, counting the write in flight", "[outgoing_queue]") {
  OutgoingQueue q(10);
  CHECK(q.push("abcd"));
  CHECK(q.push("efgh"));
  CHECK_FALSE(q.push("ijk"));  // 8 + 3 > 10: refused, nothing queued
  CHECK(q.num_bytes() == 8);
  CHECK(q.take_all() == "abcdefgh");
  CHECK(q.writing());
  CHECK_FALSE(q.push("ijk"));  // still in flight: the bytes still count
  q.written();
  CHECK(q.num_bytes() == 0);
  CHECK(q.push("ijk"));
}

TEST_CASE("push_always passes the bound and take_one gives whole messages in order", "[outgoing_queue]") {
  OutgoingQueue q(4);
  CHECK(q.push("1234"));
  q.push_always("error");
  CHECK(q.num_bytes() == 9);
  CHECK(q.take_one() == "1234");
  CHECK_THROWS(q.take_one());  // one batch in flight at a time
  q.written();
  CHECK(q.take_one() == "error");
  q.written();
  CHECK(q.empty());
  CHECK(q.num_bytes() == 0);
}

TEST_CASE("drop_pending frees what waits but keeps the write in flight counted", "[outgoing_queue]") {
  OutgoingQueue q(100);
  CHECK(q.push("abc"));
  CHECK(q.push("defg"));
  CHECK(q.take_one() == "abc");
  CHECK(q.push("hi"));
  q.drop_pending();
  CHECK(q.empty());
  CHECK(q.num_bytes() == 3);
  q.written();
  CHECK(q.num_bytes() == 0);
}
