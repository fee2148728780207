#include "net/routes.hpp"

#include <array>

namespace pagedserve::net {

namespace {

struct Entry {
  std::string_view path;
  std::string_view method;
  Route route;
};

constexpr std::array<Entry, 11> kFixed = {{
    {"/health", "GET", Route::health},
    {"/version", "GET", Route::version},
    {"/metrics", "GET", Route::metrics},
    {"/v1/models", "GET", Route::models},
    {"/v1/completions", "POST", Route::completions},
    {"/v1/chat/completions", "POST", Route::chat_completions},
    {"/v1/stream", "GET", Route::stream},
    {"/v1/responses", "POST", Route::responses},
    {"/tokenize", "POST", Route::tokenize},
    {"/detokenize", "POST", Route::detokenize},
    {"/admin/", "GET", Route::admin_page},
}};

constexpr std::array<std::string_view, 5> kAdminViews = {"seqs", "pool", "prefix", "queues", "counters"};

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "/admin/<view>" and "/admin/seqs/<id>" to the engine's view name ("" if none).
std::string admin_view_name(std::string_view path) {
  constexpr std::string_view prefix = "/admin/";
  if (path.substr(0, prefix.size()) != prefix) return "";
  std::string_view rest = path.substr(prefix.size());
  if (rest.size() > 1 && rest.back() == '/') rest.remove_suffix(1);
  for (auto v : kAdminViews)
    if (rest == v) return std::string(v);
  constexpr std::string_view seqs = "seqs/";
  if (rest.substr(0, seqs.size()) == seqs && all_digits(rest.substr(seqs.size())))
    return "seq/" + std::string(rest.substr(seqs.size()));
  return "";
}

RouteMatch with_method(std::string_view method, std::string_view wanted, RouteMatch match) {
  if (method == wanted) return match;
  // HEAD is GET without the body (health checkers use it); not a WebSocket upgrade.
  if (method == "HEAD" && wanted == "GET" && match.route != Route::stream) return match;
  return {Route::method_not_allowed, "", wanted == "GET" ? "GET, HEAD" : std::string(wanted)};
}

}  // namespace

bool needs_api_key(Route route) {
  return route == Route::models || route == Route::completions || route == Route::chat_completions || route == Route::responses ||
         route == Route::responses_socket ||
         route == Route::stream || route == Route::tokenize || route == Route::detokenize;
}

std::string_view origin_form(std::string_view target) {
  if (target.empty() || target.front() == '/') return target;
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return target;
  const auto rest = target.substr(scheme_end + 3);
  const auto path = rest.find_first_of("/?");
  return path == std::string_view::npos ? std::string_view("/") : rest.substr(path);
}

std::string_view target_path(std::string_view target) {
  target = origin_form(target);
  return target.substr(0, target.find('?'));
}

RouteMatch match_route(std::string_view method, std::string_view target) {
  std::string_view path = target_path(target);
  if (path == "/admin") path = "/admin/";
  // The Responses API's WebSocket mode upgrades a GET of the POST route.
  if (path == "/v1/responses" && method == "GET") return {Route::responses_socket, "", ""};
  for (const auto& e : kFixed)
    if (e.path == path) return with_method(method, e.method, {e.route, "", ""});
  if (auto view = admin_view_name(path); !view.empty()) return with_method(method, "GET", {Route::admin_view, view, ""});
  return {Route::not_found, "", ""};
}

}  // namespace pagedserve::net
