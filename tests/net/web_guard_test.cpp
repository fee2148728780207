// The checks that keep web pages away from a loopback server.

#include "net/web_guard.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

TEST_CASE("a loopback server answers to its own names, with its port or none", "[web_guard]") {
  const std::vector<std::string> none;
  for (const char* ok : {"localhost", "localhost:8000", "LocalHost:8000", "127.0.0.1:8000", "127.1.2.3", "[::1]:8000",
                         "[::1]", ""})
    CHECK(host_allowed(ok, 8000, none));
  for (const char* bad : {"evil.example", "evil.example:8000", "localhost:8001", "127.0.0.1.evil.example",
                          "10.0.0.1:8000", "[::2]:8000", "localhost.evil:8000"})
    CHECK_FALSE(host_allowed(bad, 8000, none));
  CHECK(host_allowed("Box.Local:8000", 8000, {"box.local"}));
  CHECK(host_allowed("anything:8000", 8000, {"*"}));
  CHECK_FALSE(host_allowed("box.local:9", 8000, {"box.local"}));
}

TEST_CASE("requests a page could send cross-site are refused with the right status", "[web_guard]") {
  const WebGuardPolicy loopback{true, 8000, {}};
  auto refused = [&](WebRequestFacts r) {
    auto e = refuse_web_request(r, loopback);
    return e ? e->status : 0;
  };
  const std::string_view json = "application/json";
  CHECK(refused({"POST", "/v1/completions", "127.0.0.1:8000", json, ""}) == 0);
  CHECK(refused({"POST", "/v1/completions", "evil.example:8000", json, ""}) == 421);
  CHECK(refused({"POST", "http://evil.example:8000/v1/completions", "127.0.0.1:8000", json, ""}) == 421);
  CHECK(refused({"POST", "http://localhost:8000/v1/completions", "evil.example", json, ""}) == 0);
  for (std::string_view type : {"text/plain", "Text/Plain; charset=UTF-8", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=b"})
    CHECK(refused({"POST", "/v1/completions", "localhost:8000", type, ""}) == 415);
  CHECK(refused({"GET", "/health", "localhost:8000", "text/plain", ""}) == 0);
  CHECK(refused({"POST", "/v1/completions", "localhost:8000", json, "chunked"}) == 0);
  CHECK(refused({"POST", "/v1/completions", "localhost:8000", json, "gzip, chunked"}) == 501);
  // A WebSocket from a page elsewhere: browsers apply no CORS to it.
  CHECK(refused({"GET", "/v1/stream", "localhost:8000", "", "", "https://evil.example", true, false}) == 403);
  CHECK(refused({"GET", "/v1/stream", "localhost:8000", "", "", "null", true, false}) == 403);
  CHECK(refused({"GET", "/v1/stream", "localhost:8000", "", "", "https://evil.example", true, true}) == 0);
  CHECK(refused({"GET", "/v1/stream", "localhost:8000", "", "", "http://localhost:8000", true, false}) == 0);
  CHECK(refused({"GET", "/v1/stream", "localhost:8000", "", "", "", true, false}) == 0);
  // Bound elsewhere, the Host is not checked (no rebinding to a public address matters).
  const WebGuardPolicy public_bind{false, 8000, {}};
  CHECK_FALSE(refuse_web_request({"POST", "/v1/completions", "my.server:8000", json, ""}, public_bind));
}
