#pragma once
// The route table: which handler a method and path reach, or why none does
// (404 unknown path, 405 known path with another method). HEAD reaches
// every GET route but the WebSocket one.
//
//   GET  /health  /version  /metrics  /v1/models  /v1/stream (WebSocket upgrade)
//        /v1/responses (WebSocket upgrade: the Responses API's WebSocket mode)
//   POST /v1/completions  /v1/chat/completions  /v1/responses  /tokenize  /detokenize
//   GET  /admin/  /admin/seqs  /admin/seqs/{id}  /admin/pool  /admin/prefix
//        /admin/queues  /admin/counters

#include <string>
#include <string_view>

namespace pagedserve::net {

enum class Route {
  not_found,
  method_not_allowed,
  health,
  version,
  metrics,
  models,
  completions,
  chat_completions,
  responses,
  responses_socket,
  stream,
  tokenize,
  detokenize,
  admin_page,
  admin_view,
};

struct RouteMatch {
  Route route = Route::not_found;
  std::string admin_view;  // admin_view: the engine's view name ("pool", "seq/12", ...)
  std::string allow;       // method_not_allowed: the methods the path takes
};

// The routes that an API key guards: /v1/* and those that run the
// tokenizer; /health, /version, /metrics and /admin (its own token) stay
// open, as in vLLM.
bool needs_api_key(Route route);

// `target` may carry a query string; it does not take part in routing.
RouteMatch match_route(std::string_view method, std::string_view target);

// An absolute-form target ("http://host:port/path?q", which RFC 9112 says a
// server must accept) as its origin form ("/path?q"); others as they are.
std::string_view origin_form(std::string_view target);

// The path of a request target, without its query string (or authority).
std::string_view target_path(std::string_view target);

}  // namespace pagedserve::net
