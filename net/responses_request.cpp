#include "net/responses_request.hpp"

#include "net/json_read.hpp"
#include "net/structured_output.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

ChatMessage read_item(element v, const InputLimits& limits) {
  auto obj = read_object(v, "input");
  std::string_view type;
  if (!obj["type"].get(type) && type != "message")
    throw invalid_request("input", "input items of type '" + std::string(type) + "' are not supported (only messages)");
  element role, content;
  if (obj["role"].get(role)) throw invalid_request("input.role", "every input message needs a role");
  ChatMessage m;
  m.role = read_string(role, "input.role", 64);
  if (m.role != "user" && m.role != "assistant" && m.role != "system" && m.role != "developer")
    throw invalid_request("input.role", "unknown role '" + m.role + "' (user, assistant, system, developer)");
  if (obj["content"].get(content)) throw invalid_request("input.content", "every input message needs content");
  m.content = read_text_content(content, "input.content", {"input_text", "output_text", "text"}, limits);
  return m;
}

std::vector<ChatMessage> read_input(element v, const InputLimits& limits) {
  if (v.is_string()) return {{"user", read_string(v, "input", limits.max_string_bytes)}};
  std::vector<ChatMessage> out;
  for (element item : read_array(v, "input")) {
    if (out.size() >= limits.max_messages)
      throw invalid_request("input", "more than " + std::to_string(limits.max_messages) + " input items");
    out.push_back(read_item(item, limits));
  }
  if (out.empty()) throw invalid_request("input", "input must not be empty");
  return out;
}

// Asking for a tool or a background run is refused;
// their empty or default values are fine.
void refuse_unless_default(std::string_view key, element v) {
  simdjson::dom::array a;
  std::string_view s;
  bool b = false;
  const bool harmless = (!v.get(a) && a.size() == 0) || (!v.get(s) && (s == "none" || s == "auto" || s == "disabled")) ||
                        (!v.get(b) && !b);
  if (!harmless) throw invalid_request(std::string(key), std::string(key) + " is not supported");
}

// The keys Responses adds to the generation fields; false if not one.
bool read_responses_field(std::string_view key, element value, const InputLimits& limits, ResponsesRequest& out,
                          bool& has_input) {
  if (key == "input") {
    out.input = read_input(value, limits);
    has_input = true;
  } else if (key == "instructions") {
    out.instructions = read_string(value, "instructions", limits.max_string_bytes);
  } else if (key == "previous_response_id") {
    out.previous_response_id = read_string(value, "previous_response_id", 256);
  } else if (key == "store") {
    out.store = read_bool(value, "store");
  } else if (key == "max_output_tokens") {
    out.params.sampling.max_tokens = static_cast<int>(read_int(value, "max_output_tokens", 1, 1 << 30));
    out.params.max_tokens_given = true;
  } else if (key == "text") {
    read_text_format(value, out.params);
  } else if (key == "tools" || key == "tool_choice" || key == "background" || key == "truncation" ||
             key == "conversation" || key == "prompt") {
    refuse_unless_default(key, value);
  } else if (key == "metadata" || key == "include" || key == "parallel_tool_calls" || key == "reasoning" ||
             key == "service_tier" || key == "type") {
    // accepted and ignored, as OpenAI-compatible servers do
  } else {
    return false;
  }
  return true;
}

}  // namespace

ResponsesRequest read_responses_request(simdjson::dom::object obj, const InputLimits& limits) {
  ResponsesRequest out;
  bool has_input = false;
  for (auto [key, value] : obj) {
    if (value.is_null()) continue;
    if (read_responses_field(key, value, limits, out, has_input)) continue;
    if (key == "max_tokens" || key == "n" || key == "best_of" || key == "use_beam_search")
      throw invalid_request(std::string(key), std::string(key) + " is not a Responses API field (use max_output_tokens)");
    read_generation_field(key, value, limits, out.params);
  }
  if (!has_input) throw invalid_request("input", "input is required");
  validate_params(out.params, limits);
  return out;
}

ResponsesRequest parse_responses_request(std::string_view body, const InputLimits& limits) {
  return read_responses_request(parse_object(thread_parser(), body), limits);
}

}  // namespace pagedserve::net
