#pragma once
// POST /v1/responses on an HttpSession: a plain request answers with the
// Response object; "stream": true answers with server-sent events, each
// named by an "event:" line as OpenAI sends them. A client that leaves, or
// reads too slowly, gets its response cancelled.

#include <memory>
#include <string>

#include "net/http_session.hpp"

namespace pagedserve::net {

void serve_responses(std::shared_ptr<HttpSession> session, std::string body);

}  // namespace pagedserve::net
