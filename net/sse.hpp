#pragma once
// Server-sent events framing (the HTML "text/event-stream" format): each
// event is one `data:` line and a blank line. The JSON writer never emits a
// raw newline, so a JSON payload always fits on one line; anything else is
// split into one `data:` line per line, as the format requires.

#include <string>
#include <string_view>

namespace pagedserve::net {

// "data: <payload>\n\n" (multi-line payloads: one data line each).
std::string sse_event(std::string_view payload);

// The OpenAI stream terminator.
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace pagedserve::net
