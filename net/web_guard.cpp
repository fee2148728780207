#include "net/web_guard.hpp"

#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace pagedserve::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "name:port", "[v6]:port", "name" -> {name (brackets dropped), port or ""}.
std::pair<std::string_view, std::string_view> split_host_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return {host, ""};
    auto rest = host.substr(close + 1);
    return {host.substr(1, close - 1), rest.empty() || rest.front() != ':' ? rest : rest.substr(1)};
  }
  const auto colon = host.find(':');
  if (colon == std::string_view::npos) return {host, ""};
  return {host.substr(0, colon), host.substr(colon + 1)};
}

bool is_loopback_name(const std::string& name) {
  if (name == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(name, ec);
  return !ec && address.is_loopback();
}

}  // namespace

// "http://localhost:8000" for a server on port 8000; "null" (a sandboxed
// page, a file) never.
bool same_machine_origin(std::string_view origin, const WebGuardPolicy& policy) {
  const auto authority = target_authority(origin);
  return !authority.empty() && host_allowed(authority, policy.port, policy.allowed_hosts);
}

bool host_allowed(std::string_view host_header, int port, const std::vector<std::string>& allowed_names) {
  host_header = trim(host_header);
  if (host_header.empty()) return true;
  const auto [name_part, port_part] = split_host_port(host_header);
  if (!port_part.empty() && port_part != std::to_string(port)) return false;
  const std::string name = lower(name_part);
  if (is_loopback_name(name)) return true;
  for (const auto& allowed : allowed_names)
    if (allowed == "*" || lower(allowed) == name) return true;
  return false;
}

std::string_view target_authority(std::string_view target) {
  const auto scheme_end = target.find("://");
  if (target.empty() || target.front() == '/' || scheme_end == std::string_view::npos) return "";
  auto rest = target.substr(scheme_end + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

bool is_cross_site_simple_type(std::string_view content_type) {
  const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
  return type == "text/plain" || type == "application/x-www-form-urlencoded" || type == "multipart/form-data";
}

bool transfer_coding_supported(std::string_view transfer_encoding) {
  transfer_encoding = trim(transfer_encoding);
  return transfer_encoding.empty() || lower(transfer_encoding) == "chunked";
}

std::optional<ApiError> refuse_web_request(const WebRequestFacts& r, const WebGuardPolicy& policy) {
  if (!transfer_coding_supported(r.transfer_encoding))
    return ApiError(501, "invalid_request_error",
                    "Transfer-Encoding '" + std::string(r.transfer_encoding) + "' is not supported; send chunked or Content-Length",
                    "", "unsupported_transfer_encoding");
  // RFC 9112 3.2.2: an absolute-form target's authority stands for Host.
  const auto authority = target_authority(r.target);
  if (policy.check_host && !host_allowed(authority.empty() ? r.host : authority, policy.port, policy.allowed_hosts))
    return ApiError(421, "invalid_request_error",
                    "this server answers to localhost and its loopback addresses only; add the name to allowed_hosts to "
                    "use another",
                    "", "host_not_allowed");
  if (r.websocket && !r.origin.empty() && !r.origin_allowed && !same_machine_origin(r.origin, policy))
    return ApiError(403, "permission_error", "a WebSocket from a page of another site (Origin " + std::string(r.origin) +
                                                 "); add the origin to allowed_origins to let it in",
                    "", "origin_not_allowed");
  return std::nullopt;
}

std::optional<ApiError> refuse_cross_site_post(std::string_view method, std::string_view content_type) {
  if (method != "POST" || !is_cross_site_simple_type(content_type)) return std::nullopt;
  return ApiError(415, "invalid_request_error",
                  "request bodies are JSON: send Content-Type: application/json, not " + std::string(content_type), "",
                  "unsupported_media_type");
}

}  // namespace pagedserve::net
