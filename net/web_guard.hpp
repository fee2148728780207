#pragma once
// What keeps web pages away from a server on the user's own machine, and
// the HTTP forms a browser, a proxy or a hand-written client may send.
//
// A page cannot read a cross-origin answer without CORS, but it can still
// send: a rebound DNS name (evil.example resolving to 127.0.0.1) makes the
// browser treat the server as same-origin, and a "simple" request (a form
// or text/plain POST) goes out without a preflight. The first is caught by
// the Host header, the second by the content type.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/api_error.hpp"

namespace pagedserve::net {

// Who may call: set from the server's options.
struct WebGuardPolicy {
  bool check_host = false;  // bound on loopback: only our own names
  int port = 0;             // the port we listen on
  std::vector<std::string> allowed_hosts;  // further names (allowed_hosts; "*": any)
};

// The parts of a request the guard looks at.
struct WebRequestFacts {
  std::string_view method, target, host, content_type, transfer_encoding;
  std::string_view origin;     // the Origin header ("" : none)
  bool websocket = false;      // an Upgrade to WebSocket
  bool origin_allowed = false; // allowed_origins lets `origin` in
};

// nullopt when the request may be routed; else 501 (a transfer coding
// other than chunked), 421 (a Host that is not ours: DNS rebinding) or 403
// (a WebSocket opened by a page of another site: browsers apply no CORS
// to WebSockets).
std::optional<ApiError> refuse_web_request(const WebRequestFacts& request, const WebGuardPolicy& policy);

// nullopt unless a POST carries a body a browser sends cross-site without
// a preflight (is_cross_site_simple_type): then 415. Checked after the API
// key, so a client without the key learns only that.
std::optional<ApiError> refuse_cross_site_post(std::string_view method, std::string_view content_type);

// Whether a Host header names this server as bound on loopback:
// localhost or a loopback address (127.0.0.0/8, [::1]), or one of
// `allowed_names` ("*": any), with no port or `port`. Names compare
// case-insensitively; an empty header (HTTP/1.0, not a browser) passes.
bool host_allowed(std::string_view host_header, int port, const std::vector<std::string>& allowed_names);

// Whether a page's Origin is this server as host_allowed sees it.
bool same_machine_origin(std::string_view origin, const WebGuardPolicy& policy);

// The authority of an absolute-form target ("http://host:port/path") or ""
// for origin-form ("/path").
std::string_view target_authority(std::string_view target);

// Whether a content type is one a browser sends cross-site without asking
// (text/plain, application/x-www-form-urlencoded, multipart/form-data).
bool is_cross_site_simple_type(std::string_view content_type);

// Whether a Transfer-Encoding header asks for what the server decodes:
// nothing, or exactly "chunked".
bool transfer_coding_supported(std::string_view transfer_encoding);

}  // namespace pagedserve::net
