// Who may read the admin views, and the names a request's "model" may use.

#include "net/server_context.hpp"
#include "net/routes.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

struct Context {
  boost::asio::thread_pool pool{1};
  ServerContext ctx;
  Context(std::string host, std::string token) : ctx(options(std::move(host), std::move(token)), pool) {}
  static ServerOptions options(std::string host, std::string token) {
    ServerOptions o;
    o.host = std::move(host);
    o.admin_token = std::move(token);
    o.model_path = "models/stories260K/";
    return o;
  }
};

}  // namespace

TEST_CASE("admin is open on loopback, needs the token when one is set, and is off elsewhere without one", "[admin]") {
  Context loopback("127.0.0.1", "");
  CHECK_FALSE(loopback.ctx.check_admin(""));
  Context localhost("localhost", "");
  CHECK(localhost.ctx.admin_enabled());
  Context v6("::1", "");
  CHECK(v6.ctx.admin_enabled());

  Context exposed("0.0.0.0", "");
  CHECK_FALSE(exposed.ctx.admin_enabled());
  auto refused = exposed.ctx.check_admin("Bearer anything");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(refused->code == "admin_disabled");

  for (const char* host : {"0.0.0.0", "127.0.0.1"}) {
    Context guarded(host, "t0ken");
    CHECK(guarded.ctx.admin_enabled());
    for (const char* right : {"Bearer t0ken", "bearer t0ken", "BEARER t0ken"})  // the scheme is case-insensitive
      CHECK_FALSE(guarded.ctx.check_admin(right));
    for (const char* wrong : {"", "t0ken", "Bearer t0ke", "Bearer t0ken2", "Bearer T0ken", "Basic t0ken", "Bearert0ken"}) {
      auto e = guarded.ctx.check_admin(wrong);
      REQUIRE(e);
      CHECK(e->status == 401);
    }
  }
}

TEST_CASE("the served model name comes from the model path", "[admin]") {
  CHECK(model_name_from_path("models/stories260K/") == "stories260K");
  CHECK(model_name_from_path("/x/y/model.bin") == "model");
  CHECK(model_name_from_path("dummy:llama2-7b") == "dummy:llama2-7b");
  Context c("127.0.0.1", "");
  CHECK(c.ctx.served_model_name() == "stories260K");
  CHECK(c.ctx.accepts_model(""));
  CHECK(c.ctx.accepts_model("stories260K"));
  CHECK(c.ctx.accepts_model("models/stories260K/"));
  CHECK_FALSE(c.ctx.accepts_model("gpt-4"));
  CHECK(is_loopback_host("127.0.0.2"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("example.invalid"));
}

TEST_CASE("with an API key every /v1 route needs it; without one the API is open", "[auth]") {
  boost::asio::thread_pool pool{1};
  ServerOptions o;
  o.api_key = "sk-local";
  ServerContext keyed(o, pool);
  CHECK_FALSE(keyed.check_api_key("Bearer sk-local"));
  for (const char* wrong : {"", "sk-local", "Bearer sk-loca", "Bearer sk-local ", "Basic sk-local", "Bearer SK-LOCAL"}) {
    auto e = keyed.check_api_key(wrong);
    REQUIRE(e);
    CHECK(e->status == 401);
    CHECK(e->type == "authentication_error");
    CHECK(e->code == "invalid_api_key");
  }
  ServerContext open(ServerOptions{}, pool);
  CHECK_FALSE(open.check_api_key(""));
  for (auto route : {Route::models, Route::completions, Route::chat_completions, Route::stream, Route::responses,
                     Route::responses_socket, Route::tokenize, Route::detokenize})
    CHECK(needs_api_key(route));
  for (auto route : {Route::health, Route::version, Route::metrics, Route::admin_page, Route::admin_view})
    CHECK_FALSE(needs_api_key(route));
}

TEST_CASE("CORS is off by default and answers only the allowed origins", "[cors]") {
  boost::asio::thread_pool pool{1};
  ServerContext off(ServerOptions{}, pool);
  CHECK(off.cors_origin("https://app.example").empty());
  ServerOptions o;
  o.allowed_origins = split_origins(" https://a.example ,https://b.example,");
  CHECK(o.allowed_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
  ServerContext some(o, pool);
  CHECK(some.cors_origin("https://b.example") == "https://b.example");
  CHECK(some.cors_origin("https://c.example").empty());
  CHECK(some.cors_origin("").empty());
  o.allowed_origins = split_origins("*");
  ServerContext any(o, pool);
  CHECK(any.cors_origin("https://c.example") == "*");
}
