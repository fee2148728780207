#pragma once
// The Responses API's JSON: the Response object and the streamed events,
// as OpenAI documents them. A plain request gets the final Response; a
// streamed one (SSE or WebSocket) gets, in order:
//
//   response.created, response.in_progress            (status in_progress)
//   response.output_item.added, response.content_part.added
//   response.output_text.delta ...                    (one per token)
//   response.output_text.done, response.content_part.done, response.output_item.done
//   response.completed | response.incomplete | response.failed
//
// every event with "type" and "sequence_number" (0, 1, 2, ... per response).

#include <cstdint>
#include <string>
#include <string_view>

#include "net/completion_format.hpp"
#include "net/responses_request.hpp"

namespace pagedserve::net {

// A response as it stands: what the Response object and the events show.
struct ResponseState {
  std::string id;          // resp_...
  std::string message_id;  // msg_...
  std::string model;
  std::int64_t created_at = 0;
  std::string status = "in_progress";  // completed, incomplete (max_output_tokens), failed
  std::string text;                    // the answer so far
  std::string error;                   // failed: why
  Usage usage;
  const ResponsesRequest* request = nullptr;  // echoed parameters
};

// The Response object.
std::string response_object(const ResponseState& r);

// One streamed event: its "type" (an SSE stream names the event by it) and
// its JSON.
struct ResponseEvent {
  std::string type;
  std::string json;
};

// Events with the whole Response: response.created, .in_progress,
// .completed, .incomplete, .failed.
ResponseEvent response_event(std::string_view type, int sequence, const ResponseState& r);
// response.output_item.added / .done (the message item as it stands).
ResponseEvent output_item_event(std::string_view type, int sequence, const ResponseState& r);
// response.content_part.added / .done (the output_text part as it stands).
ResponseEvent content_part_event(std::string_view type, int sequence, const ResponseState& r);
// response.output_text.delta with `delta`, or .done with the whole text.
ResponseEvent text_delta_event(int sequence, const ResponseState& r, std::string_view delta);
ResponseEvent text_done_event(int sequence, const ResponseState& r);
// {"type":"error","code","message","param","sequence_number"}: a request
// refused on a stream (a WebSocket's response.create).
ResponseEvent error_event(int sequence, const ApiError& error);

}  // namespace pagedserve::net
