#include "net/responses_format.hpp"

#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace {

void write_text_part(JsonWriter& w, const ResponseState& r) {
  w.begin_object().field("type", "output_text").field("text", r.text).key("annotations").begin_array().end_array();
  w.key("logprobs").begin_array().end_array().end_object();
}

// The assistant message: in progress (no content yet) until the answer ends.
void write_message(JsonWriter& w, const ResponseState& r, bool with_content) {
  const bool over = r.status != "in_progress";
  w.begin_object().field("id", r.message_id).field("type", "message");
  w.field("status", !over ? "in_progress" : r.status == "incomplete" ? "incomplete" : "completed");
  w.field("role", "assistant").key("content").begin_array();
  if (with_content) write_text_part(w, r);
  w.end_array().end_object();
}

void write_usage(JsonWriter& w, const Usage& u) {
  w.key("usage").begin_object().field("input_tokens", u.prompt_tokens);
  w.key("input_tokens_details").begin_object().field("cached_tokens", u.cached_tokens).end_object();
  w.field("output_tokens", u.completion_tokens);
  w.key("output_tokens_details").begin_object().field("reasoning_tokens", 0).end_object();
  w.field("total_tokens", u.prompt_tokens + u.completion_tokens).end_object();
}

void optional_string(JsonWriter& w, std::string_view key, const std::string& value) {
  w.key(key);
  value.empty() ? w.null() : w.value(value);
}

// The parameters the request set, echoed as the Response object shows them.
void write_parameters(JsonWriter& w, const ResponsesRequest& q) {
  optional_string(w, "instructions", q.instructions);
  optional_string(w, "previous_response_id", q.previous_response_id);
  w.key("max_output_tokens");
  q.params.max_tokens_given ? w.value(q.params.sampling.max_tokens) : w.null();
  w.field("temperature", static_cast<double>(q.params.sampling.temperature));
  w.field("top_p", static_cast<double>(q.params.sampling.top_p));
  w.field("store", q.store).field("parallel_tool_calls", false).field("tool_choice", "none");
  w.key("tools").begin_array().end_array().field("truncation", "disabled");
  w.key("text").begin_object().key("format").begin_object().field("type", "text").end_object().end_object();
  w.key("metadata").begin_object().end_object();
}

void write_response(JsonWriter& w, const ResponseState& r) {
  w.begin_object().field("id", r.id).field("object", "response").field("created_at", r.created_at);
  w.field("model", r.model).field("status", r.status);
  w.key("error");
  if (r.status == "failed") w.begin_object().field("code", "server_error").field("message", r.error).end_object();
  else w.null();
  w.key("incomplete_details");
  if (r.status == "incomplete") w.begin_object().field("reason", "max_output_tokens").end_object();
  else w.null();
  w.key("output").begin_array();
  if (r.status != "in_progress" && r.status != "failed") write_message(w, r, true);
  w.end_array();
  if (r.request) write_parameters(w, *r.request);
  if (r.status == "in_progress") w.key("usage").null();
  else write_usage(w, r.usage);
  w.end_object();
}

// {"type": ..., "sequence_number": ..., then the caller's fields.
JsonWriter begin_event(std::string_view type, int sequence) {
  JsonWriter w;
  w.begin_object().field("type", type).field("sequence_number", sequence);
  return w;
}

void write_part_position(JsonWriter& w, const ResponseState& r) {
  w.field("item_id", r.message_id).field("output_index", 0).field("content_index", 0);
}

}  // namespace

std::string response_object(const ResponseState& r) {
  JsonWriter w;
  write_response(w, r);
  return w.take();
}

ResponseEvent response_event(std::string_view type, int sequence, const ResponseState& r) {
  auto w = begin_event(type, sequence);
  w.key("response");
  write_response(w, r);
  return {std::string(type), w.end_object().take()};
}

ResponseEvent output_item_event(std::string_view type, int sequence, const ResponseState& r) {
  auto w = begin_event(type, sequence);
  w.field("output_index", 0).key("item");
  write_message(w, r, r.status != "in_progress");
  return {std::string(type), w.end_object().take()};
}

ResponseEvent content_part_event(std::string_view type, int sequence, const ResponseState& r) {
  auto w = begin_event(type, sequence);
  write_part_position(w, r);
  w.key("part");
  write_text_part(w, r);
  return {std::string(type), w.end_object().take()};
}

ResponseEvent text_delta_event(int sequence, const ResponseState& r, std::string_view delta) {
  auto w = begin_event("response.output_text.delta", sequence);
  write_part_position(w, r);
  w.field("delta", delta).key("logprobs").begin_array().end_array();
  return {"response.output_text.delta", w.end_object().take()};
}

ResponseEvent text_done_event(int sequence, const ResponseState& r) {
  auto w = begin_event("response.output_text.done", sequence);
  write_part_position(w, r);
  w.field("text", r.text).key("logprobs").begin_array().end_array();
  return {"response.output_text.done", w.end_object().take()};
}

ResponseEvent error_event(int sequence, const ApiError& error) {
  auto w = begin_event("error", sequence);
  w.key("code");
  error.code.empty() ? w.value(error.type) : w.value(error.code);
  w.field("message", std::string_view(error.what())).key("param");
  error.param.empty() ? w.null() : w.value(error.param);
  return {"error", w.end_object().take()};
}

}  // namespace pagedserve::net
