#include "net/responses_format.hpp"

#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace {

using Type = ResponseItem::Type;

void write_text_part(JsonWriter& w, const ResponseItem& item) {
  w.begin_object().field("type", "output_text").field("text", item.text).key("annotations").begin_array().end_array();
  w.key("logprobs").begin_array().end_array().end_object();
}

// An item: in progress (a message without content, a call without
// arguments) until it is done.
void write_item(JsonWriter& w, const ResponseState& r, const ResponseItem& item) {
  const char* status = !item.done ? "in_progress" : r.status == "incomplete" ? "incomplete" : "completed";
  w.begin_object().field("id", item.id);
  switch (item.type) {
    case Type::message:
      w.field("type", "message").field("status", status).field("role", "assistant").key("content").begin_array();
      if (item.done) write_text_part(w, item);
      w.end_array();
      break;
    case Type::reasoning:
      w.field("type", "reasoning").key("summary").begin_array().end_array().key("content").begin_array();
      if (item.done) w.begin_object().field("type", "reasoning_text").field("text", item.text).end_object();
      w.end_array().field("status", status);
      break;
    case Type::function_call:
      w.field("type", "function_call").field("status", status).field("call_id", item.call_id).field("name", item.name);
      w.field("arguments", item.done ? std::string_view(item.text) : std::string_view());
      break;
  }
  w.end_object();
}



void write_usage(JsonWriter& w, const Usage& u) {
  w.key("usage").begin_object().field("input_tokens", u.prompt_tokens);
  w.key("input_tokens_details").begin_object().field("cached_tokens", u.cached_tokens).end_object();
  w.field("output_tokens", u.completion_tokens);
  w.key("output_tokens_details").begin_object().field("reasoning_tokens", 0).end_object();  // not counted apart
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
  w.field("store", q.store).field("parallel_tool_calls", q.tools.choice.parallel_tool_calls);
  w.key("tool_choice");
  q.tool_choice_json.empty() ? w.value("auto") : w.raw_value(q.tool_choice_json);
  w.key("tools").raw_value(q.tools_json).field("truncation", "disabled");
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
  if (r.status != "in_progress" && r.status != "failed")
    for (const auto& item : r.output) write_item(w, r, item);
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

// Where an item's text is: item_id, output_index (and content_index but
// for a call's arguments).
void write_position(JsonWriter& w, const ResponseState& r, std::size_t index) {
  w.field("item_id", r.output[index].id).field("output_index", static_cast<std::int64_t>(index));
  if (r.output[index].type != Type::function_call) w.field("content_index", 0);
}

std::string text_event_type(Type type, std::string_view what) {
  switch (type) {
    case Type::message: return "response.output_text." + std::string(what);
    case Type::reasoning: return "response.reasoning_text." + std::string(what);
    case Type::function_call: return "response.function_call_arguments." + std::string(what);
  }
  return "";
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

ResponseEvent output_item_event(std::string_view type, int sequence, const ResponseState& r, std::size_t index) {
  auto w = begin_event(type, sequence);
  w.field("output_index", static_cast<std::int64_t>(index)).key("item");
  write_item(w, r, r.output[index]);
  return {std::string(type), w.end_object().take()};
}

ResponseEvent content_part_event(std::string_view type, int sequence, const ResponseState& r, std::size_t index) {
  auto w = begin_event(type, sequence);
  write_position(w, r, index);
  w.key("part");
  write_text_part(w, r.output[index]);
  return {std::string(type), w.end_object().take()};
}

ResponseEvent text_delta_event(int sequence, const ResponseState& r, std::size_t index, std::string_view delta) {
  const ResponseItem& item = r.output[index];
  const std::string type = text_event_type(item.type, "delta");
  auto w = begin_event(type, sequence);
  write_position(w, r, index);
  w.field("delta", delta);
  if (item.type == Type::message) w.key("logprobs").begin_array().end_array();
  return {type, w.end_object().take()};
}

ResponseEvent text_done_event(int sequence, const ResponseState& r, std::size_t index) {
  const ResponseItem& item = r.output[index];
  const std::string type = text_event_type(item.type, "done");
  auto w = begin_event(type, sequence);
  write_position(w, r, index);
  if (item.type == Type::function_call) w.field("name", item.name).field("arguments", item.text);
  else w.field("text", item.text);
  if (item.type == Type::message) w.key("logprobs").begin_array().end_array();
  return {type, w.end_object().take()};
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
