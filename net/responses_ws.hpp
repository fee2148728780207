#pragma once
// OpenAI's Responses API over a WebSocket (GET /v1/responses, upgraded):
// each text frame is a client event {"type": "response.create", ...} whose
// other fields are a POST /v1/responses body; the server answers with the
// same events a streamed POST gets, one JSON text frame each. One response
// at a time per socket; a bad event gets an "error" event and the socket
// stays open. Closing the socket cancels the response in flight.

#include <memory>
#include <string_view>

#include "net/ws_session.hpp"

namespace pagedserve::net {

void handle_response_create(std::shared_ptr<WsSession> session, std::string_view text);

}  // namespace pagedserve::net
