#pragma once
// The Responses API's JSON: the Response object and the streamed events,
// as OpenAI documents them. A plain request gets the final Response; a
// streamed one (SSE or WebSocket) gets, in order:
//
//   response.created, response.in_progress            (status in_progress)
//   then per output item, in the order the model writes them:
//     reasoning      response.output_item.added, response.reasoning_text.delta ...,
//                    response.reasoning_text.done, response.output_item.done
//     message        response.output_item.added, response.content_part.added,
//                    response.output_text.delta ... (one per token),
//                    response.output_text.done, response.content_part.done,
//                    response.output_item.done
//     function_call  response.output_item.added (arguments ""),
//                    response.function_call_arguments.delta ...,
//                    response.function_call_arguments.done, response.output_item.done
//   response.completed | response.incomplete | response.failed
//
// every event with "type" and "sequence_number" (0, 1, 2, ... per response).
// An answer with no items gets one empty message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/completion_format.hpp"
#include "net/responses_request.hpp"

namespace pagedserve::net {

// One item of a response's output.
struct ResponseItem {
  enum class Type { reasoning, message, function_call };
  Type type = Type::message;
  std::string id;       // rs_..., msg_..., fc_...
  std::string text;     // the reasoning, the message's text, or the call's arguments
  std::string call_id;  // function_call: call_... (what function_call_output answers)
  std::string name;     // function_call: the function
  bool done = false;
};

// A response as it stands: what the Response object and the events show.
struct ResponseState {
  std::string id;          // resp_...
  std::string model;
  std::int64_t created_at = 0;
  std::string status = "in_progress";  // completed, incomplete (max_output_tokens), failed
  std::vector<ResponseItem> output;
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
// response.output_item.added / .done: output item `index` as it stands.
ResponseEvent output_item_event(std::string_view type, int sequence, const ResponseState& r, std::size_t index);
// response.content_part.added / .done (the message's output_text part as it stands).
ResponseEvent content_part_event(std::string_view type, int sequence, const ResponseState& r, std::size_t index);
// An item's text grows by `delta`: response.output_text.delta,
// .reasoning_text.delta or .function_call_arguments.delta by its type.
ResponseEvent text_delta_event(int sequence, const ResponseState& r, std::size_t index, std::string_view delta);
// And is whole: response.output_text.done, .reasoning_text.done or
// .function_call_arguments.done.
ResponseEvent text_done_event(int sequence, const ResponseState& r, std::size_t index);
// {"type":"error","code","message","param","sequence_number"}: a request
// refused on a stream (a WebSocket's response.create).
ResponseEvent error_event(int sequence, const ApiError& error);

}  // namespace pagedserve::net
