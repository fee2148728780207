#pragma once
// POST /v1/responses (and a response.create event on its WebSocket): the
// conversation to continue and how to sample the answer.
//
//   input                 a string (one user message) or a list of items:
//                         messages ({"role", "content"}, content a string or
//                         input_text / output_text parts; "type": "message"
//                         optional), function_call items (a call the model
//                         made: {"call_id", "name", "arguments"}) and
//                         function_call_output items (its result:
//                         {"call_id", "output"}); reasoning items are skipped
//   instructions          a system message put first (not carried over by
//                         previous_response_id, as OpenAI documents)
//   previous_response_id  continue a response kept in memory
//   max_output_tokens, temperature, top_p, stream, store, model, and the
//   sampling fields completions take (top_k, seed, stop, ...)
//
//   tools, tool_choice, parallel_tool_calls
//                         function tools, flat ({"type": "function",
//                         "name", "parameters"}), chosen as in chat
//                         (net/tool_choice.hpp)
//
// One answer per request (n = 1); text.format constrains it like
// response_format (net/structured_output.hpp); other tools and background
// runs are refused rather than ignored.

#include <string>
#include <string_view>
#include <vector>

#include "net/chat_request.hpp"
#include "net/completion_request.hpp"

namespace pagedserve::net {

struct ResponsesRequest {
  std::vector<ChatMessage> input;  // this turn's messages
  std::string instructions;
  std::string previous_response_id;
  bool store = true;
  GenerationParams params;  // max_tokens_given: max_output_tokens was set
  ToolsRequest tools;
  ChatOptions options;           // tools in Chat Completions' shape, for the chat template
  std::string tools_json = "[]";  // echoed in the Response
  std::string tool_choice_json;   // as given ("" -> "auto")
};

// Parses and validates. Throws ApiError naming the field.
ResponsesRequest parse_responses_request(std::string_view body, const InputLimits& limits);
// The same from an already parsed object (a WebSocket event; "type" is skipped).
ResponsesRequest read_responses_request(simdjson::dom::object obj, const InputLimits& limits);

}  // namespace pagedserve::net
