#include "net/responses_request.hpp"

#include <optional>

#include "jinja/json_value.hpp"
#include "net/json_read.hpp"
#include "net/structured_output.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

std::string required_string(simdjson::dom::object obj, const char* key, const std::string& where, std::size_t max_bytes) {
  element v;
  if (obj[key].get(v)) throw invalid_request(where + "." + key, "a " + where + " item needs \"" + key + "\"");
  return read_string(v, where + "." + key, max_bytes);
}

jinja::Value tool_call_value(const std::string& call_id, const std::string& name, const std::string& arguments) {
  return jinja::Value::dict({{"id", jinja::Value(call_id)},
                             {"type", jinja::Value("function")},
                             {"function", jinja::Value::dict({{"name", jinja::Value(name)}, {"arguments", jinja::Value(arguments)}})}});
}

// A call the model made earlier, as the assistant message a chat template
// expects; consecutive calls join one message (read_input).
ChatMessage read_function_call(simdjson::dom::object obj, const InputLimits& limits) {
  const std::string call_id = required_string(obj, "call_id", "function_call", 256);
  const std::string name = required_string(obj, "name", "function_call", 256);
  const std::string arguments = required_string(obj, "arguments", "function_call", limits.max_string_bytes);
  ChatMessage m{"assistant", ""};
  m.fields = jinja::Value::dict({{"role", jinja::Value("assistant")},
                                 {"content", jinja::Value::none()},
                                 {"tool_calls", jinja::Value::list({tool_call_value(call_id, name, arguments)})}});
  return m;
}

// A call's result: a tool message.
ChatMessage read_function_call_output(simdjson::dom::object obj, const InputLimits& limits) {
  const std::string call_id = required_string(obj, "call_id", "function_call_output", 256);
  element output;
  if (obj["output"].get(output)) throw invalid_request("function_call_output.output", "a function_call_output item needs \"output\"");
  ChatMessage m{"tool", read_text_content(output, "function_call_output.output", {"input_text", "output_text", "text"}, limits)};
  m.fields = jinja::Value::dict({{"role", jinja::Value("tool")}, {"content", jinja::Value(m.content)},
                                 {"tool_call_id", jinja::Value(call_id)}});
  return m;
}

bool is_tool_call_message(const ChatMessage& m) {
  return m.role == "assistant" && m.fields.is_dict() && m.content.empty() && !m.fields.get("tool_calls").is_undefined();
}

// nullopt for an item that is skipped (reasoning).
std::optional<ChatMessage> read_item(element v, const InputLimits& limits) {
  auto obj = read_object(v, "input");
  std::string_view type;
  if (!obj["type"].get(type) && type != "message") {
    if (type == "function_call") return read_function_call(obj, limits);
    if (type == "function_call_output") return read_function_call_output(obj, limits);
    if (type == "reasoning") return std::nullopt;  // clients send the output back; the template keeps no thinking
    throw invalid_request("input", "input items of type '" + std::string(type) +
                                       "' are not supported (message, function_call, function_call_output, reasoning)");
  }
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
  std::size_t items = 0;
  for (element item : read_array(v, "input")) {
    if (++items > limits.max_messages)
      throw invalid_request("input", "more than " + std::to_string(limits.max_messages) + " input items");
    auto m = read_item(item, limits);
    if (!m) continue;
    if (is_tool_call_message(*m) && !out.empty() && is_tool_call_message(out.back())) {
      // One assistant turn with several calls, as chat templates expect.
      jinja::Dict fields = out.back().fields.as_dict();
      for (auto& [key, value] : fields)
        if (key == "tool_calls") {
          jinja::List calls = value.as_list();
          calls.push_back(m->fields.get("tool_calls").as_list().front());
          value = jinja::Value::list(std::move(calls));
        }
      out.back().fields = jinja::Value::dict(std::move(fields));
      continue;
    }
    out.push_back(std::move(*m));
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
  } else if (key == "tools") {
    out.tools.functions = read_tools(value, ToolShape::flat);
    out.tools_json = simdjson::to_string(value);
    simdjson::dom::parser parser;
    element nested;
    if (!parser.parse(nested_tools_json(value)).get(nested)) out.options.tools = jinja::from_json(nested);
  } else if (key == "tool_choice") {
    const bool parallel = out.tools.choice.parallel_tool_calls;
    out.tools.choice = read_tool_choice(value, ToolShape::flat);
    out.tools.choice.parallel_tool_calls = parallel;
    out.tool_choice_json = simdjson::to_string(value);
  } else if (key == "parallel_tool_calls") {
    out.tools.choice.parallel_tool_calls = read_bool(value, "parallel_tool_calls");
  } else if (key == "background" || key == "truncation" || key == "conversation" || key == "prompt") {
    refuse_unless_default(key, value);
  } else if (key == "metadata" || key == "include" || key == "reasoning" ||
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
  apply_tool_choice(out.tools, out.params, ToolShape::flat);
  validate_params(out.params, limits);
  return out;
}

ResponsesRequest parse_responses_request(std::string_view body, const InputLimits& limits) {
  return read_responses_request(parse_object(thread_parser(), body), limits);
}

}  // namespace pagedserve::net
