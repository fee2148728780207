// The route table: handlers, 404 and 405.

#include "net/routes.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

TEST_CASE("every documented route is reached by its method", "[routes]") {
  CHECK(match_route("GET", "/health").route == Route::health);
  CHECK(match_route("GET", "/version").route == Route::version);
  CHECK(match_route("POST", "/v1/responses").route == Route::responses);
  CHECK(match_route("GET", "/v1/responses").route == Route::responses_socket);
  CHECK(match_route("POST", "/tokenize").route == Route::tokenize);
  CHECK(match_route("POST", "/detokenize").route == Route::detokenize);
  CHECK(match_route("GET", "/metrics").route == Route::metrics);
  CHECK(match_route("GET", "/v1/models").route == Route::models);
  CHECK(match_route("POST", "/v1/completions").route == Route::completions);
  CHECK(match_route("POST", "/v1/chat/completions?x=1").route == Route::chat_completions);
  CHECK(match_route("GET", "/v1/stream").route == Route::stream);
  CHECK(match_route("GET", "/admin").route == Route::admin_page);
  CHECK(match_route("GET", "/admin/").route == Route::admin_page);
  for (const char* view : {"seqs", "pool", "prefix", "queues", "counters"}) {
    auto m = match_route("GET", std::string("/admin/") + view);
    CHECK(m.route == Route::admin_view);
    CHECK(m.admin_view == view);
  }
  auto seq = match_route("GET", "/admin/seqs/42");
  CHECK(seq.route == Route::admin_view);
  CHECK(seq.admin_view == "seq/42");
}

TEST_CASE("unknown paths are 404, known paths with other methods 405", "[routes]") {
  for (const char* path : {"/", "/v1", "/v1/completion", "/v1/completions/x", "/admin/seqs/abc", "/admin/seqs//",
                           "/admin/../health", "/HEALTH", "/admin/seqs/1/2"})
    CHECK(match_route("GET", path).route == Route::not_found);
  auto m = match_route("GET", "/v1/completions");
  CHECK(m.route == Route::method_not_allowed);
  CHECK(m.allow == "POST");
  CHECK(match_route("POST", "/health").allow == "GET, HEAD");
  CHECK(match_route("HEAD", "/health").route == Route::health);
  CHECK(match_route("HEAD", "/admin/pool").route == Route::admin_view);
  CHECK(match_route("HEAD", "/v1/stream").route == Route::method_not_allowed);
  CHECK(match_route("HEAD", "/v1/completions").route == Route::method_not_allowed);
  CHECK(match_route("DELETE", "/admin/pool").route == Route::method_not_allowed);
}

TEST_CASE("an absolute-form target is routed by its path (RFC 9112)", "[routes]") {
  CHECK(match_route("POST", "http://127.0.0.1:8000/v1/completions").route == Route::completions);
  CHECK(match_route("GET", "HTTP://localhost/v1/models?x=1").route == Route::models);
  CHECK(match_route("GET", "http://localhost").route == Route::not_found);
  CHECK(origin_form("http://h:1/a?b") == "/a?b");
  CHECK(origin_form("/a") == "/a");
  CHECK(target_path("http://h:1/v1/models?q") == "/v1/models");
}
