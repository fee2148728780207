#pragma once
// The client side of the WebSocket protocol on /v1/stream:
//   {"type":"generate","id":"r1","prompt":"...", ...any /v1/completions parameter...}
//   {"type":"cancel","id":"r1"}
// A message that cannot be understood becomes a WsParseError carrying the
// id when one could be read, so the error frame can name the request.

#include <string>
#include <string_view>
#include <variant>

#include "net/completion_request.hpp"

namespace pagedserve::net {

struct WsGenerate {
  std::string id;
  CompletionRequest request;
};

struct WsCancel {
  std::string id;
};

using WsMessage = std::variant<WsGenerate, WsCancel>;

struct WsParseError {
  std::string id;  // "" when the message had none
  ApiError error;
};

constexpr std::size_t kMaxWsIdBytes = 256;

// Throws WsParseError.
WsMessage parse_ws_message(std::string_view text, const InputLimits& limits);

}  // namespace pagedserve::net
