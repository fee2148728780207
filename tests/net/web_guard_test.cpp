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

namespace {

WebRequestFacts request(std::string_view method, std::string_view target, std::string_view host,
                        std::string_view content_type = "application/json", std::string_view transfer_encoding = "") {
  WebRequestFacts r;
  r.method = method;
  r.target = target;
  r.host = host;
  r.content_type = content_type;
  r.transfer_encoding = transfer_encoding;
  return r;
}

WebRequestFacts websocket_from(std::string_view origin, bool origin_allowed = false) {
  auto r = request("GET", "/v1/stream", "localhost:8000", "");
  r.origin = origin;
  r.websocket = true;
  r.origin_allowed = origin_allowed;
  return r;
}

}  // namespace

TEST_CASE("requests a page could send cross-site are refused with the right status", "[web_guard]") {
  const WebGuardPolicy loopback{true, 8000, {}};
  auto refused = [&](const WebRequestFacts& r) {
    auto e = refuse_web_request(r, loopback);
    return e ? e->status : 0;
  };
  CHECK(refused(request("POST", "/v1/completions", "127.0.0.1:8000")) == 0);
  CHECK(refused(request("POST", "/v1/completions", "evil.example:8000")) == 421);
  CHECK(refused(request("POST", "http://evil.example:8000/v1/completions", "127.0.0.1:8000")) == 421);
  CHECK(refused(request("POST", "http://localhost:8000/v1/completions", "evil.example")) == 0);
  CHECK(refused(request("POST", "/v1/completions", "localhost:8000", "application/json", "chunked")) == 0);
  CHECK(refused(request("POST", "/v1/completions", "localhost:8000", "application/json", "gzip, chunked")) == 501);
  // A WebSocket from a page elsewhere: browsers apply no CORS to it.
  CHECK(refused(websocket_from("https://evil.example")) == 403);
  CHECK(refused(websocket_from("null")) == 403);
  CHECK(refused(websocket_from("https://evil.example", true)) == 0);
  CHECK(refused(websocket_from("http://localhost:8000")) == 0);
  CHECK(refused(websocket_from("")) == 0);
  // Bound elsewhere, the Host is not checked: any client that can connect may.
  const WebGuardPolicy public_bind{false, 8000, {}};
  CHECK_FALSE(refuse_web_request(request("POST", "/v1/completions", "my.server:8000"), public_bind));
}

TEST_CASE("a POST a browser sends cross-site without asking gets 415", "[web_guard]") {
  for (std::string_view type : {"text/plain", "Text/Plain; charset=UTF-8", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=b"}) {
    auto e = refuse_cross_site_post("POST", type);
    REQUIRE(e);
    CHECK(e->status == 415);
  }
  CHECK_FALSE(refuse_cross_site_post("GET", "text/plain"));
  CHECK_FALSE(refuse_cross_site_post("POST", "application/json; charset=utf-8"));
  CHECK_FALSE(refuse_cross_site_post("POST", ""));
}
