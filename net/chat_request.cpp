#include "net/chat_request.hpp"

#include <array>

#include "jinja/json_value.hpp"
#include "net/json_read.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

constexpr std::array<std::string_view, 5> kRoles = {"system", "developer", "user", "assistant", "tool"};

// "content": a string, null (an assistant turn with tool calls), or a list
// of {"type": "text", "text": ...} parts.
std::string read_content(element v, const InputLimits& limits) {
  if (v.is_null()) return "";
  return read_text_content(v, "messages.content", {"text"}, limits);
}

// The message for a chat template: as given, a content-part list replaced
// by its joined text (the "string" content format of vLLM).
jinja::Value message_fields(element v, const std::string& joined_content) {
  jinja::Dict fields = jinja::from_json(v).as_dict();
  for (auto& [key, value] : fields)
    if (key == "content" && value.is_list()) value = jinja::Value(joined_content);
  return jinja::Value::dict(std::move(fields));
}

ChatMessage read_message(element v, const InputLimits& limits) {
  auto obj = read_object(v, "messages");
  ChatMessage m;
  element role;
  if (obj["role"].get(role)) throw invalid_request("messages.role", "every message needs a role");
  m.role = read_string(role, "messages.role", 64);
  bool known = false;
  for (auto r : kRoles) known |= r == m.role;
  if (!known)
    throw invalid_request("messages.role", "unknown role '" + m.role + "' (system, developer, user, assistant, tool)");
  element content;
  if (obj["content"].get(content) && m.role != "assistant")
    throw invalid_request("messages.content", "a " + m.role + " message needs content");
  if (!obj["content"].get(content)) m.content = read_content(content, limits);
  m.fields = message_fields(v, m.content);
  return m;
}

// The legacy "functions" field is refused rather than silently ignored
// (an empty list is harmless); "tools" replaces it.
void refuse_unsupported_chat_field(std::string_view key, element v) {
  simdjson::dom::array a;
  std::string_view s;
  const bool harmless = (!v.get(a) && a.size() == 0) || (!v.get(s) && (s == "none" || s == "auto"));
  if (!harmless) throw invalid_request(std::string(key), std::string(key) + " is not supported");
}

}  // namespace

std::string read_text_content(simdjson::dom::element v, const std::string& field,
                              std::initializer_list<std::string_view> part_types, const InputLimits& limits) {
  if (v.is_string()) return read_string(v, field, limits.max_string_bytes);
  std::string text;
  for (element part : read_array(v, field)) {
    auto obj = read_object(part, field);
    std::string_view type;
    bool known = false;
    if (!obj["type"].get(type))
      for (auto t : part_types) known |= t == type;
    if (!known) throw invalid_request(field, "only text content parts are supported (type " + std::string(*part_types.begin()) + ")");
    element t;
    if (obj["text"].get(t)) throw invalid_request(field, "a text content part needs \"text\"");
    text += read_string(t, field + ".text", limits.max_string_bytes);
  }
  return text;
}

std::vector<ChatMessage> read_messages(simdjson::dom::element v, const InputLimits& limits) {
  std::vector<ChatMessage> messages;
  for (element m : read_array(v, "messages")) {
    if (messages.size() >= limits.max_messages)
      throw invalid_request("messages", "more than " + std::to_string(limits.max_messages) + " messages");
    messages.push_back(read_message(m, limits));
  }
  if (messages.empty()) throw invalid_request("messages", "messages must not be empty");
  return messages;
}

ChatRequest parse_chat_request(std::string_view body, const InputLimits& limits) {
  ChatRequest out;
  out.params.sampling = limits.sampling_defaults;
  bool has_messages = false;
  int top_logprobs = 0;
  for (auto [key, value] : parse_object(thread_parser(), body)) {
    if (value.is_null()) continue;
    if (key == "messages") {
      out.messages = read_messages(value, limits);
      has_messages = true;
    } else if (key == "logprobs") {
      out.params.want_logprobs = read_bool(value, "logprobs");
    } else if (key == "top_logprobs") {
      top_logprobs = static_cast<int>(read_int(value, "top_logprobs", 0, 20));
    } else if (key == "tools") {
      out.tools.functions = read_tools(value, ToolShape::nested);
      out.options.tools = jinja::from_json(value);
    } else if (key == "tool_choice") {
      const bool parallel = out.tools.choice.parallel_tool_calls;
      out.tools.choice = read_tool_choice(value, ToolShape::nested);
      out.tools.choice.parallel_tool_calls = parallel;
    } else if (key == "parallel_tool_calls") {
      out.tools.choice.parallel_tool_calls = read_bool(value, "parallel_tool_calls");
    } else if (read_chat_option(key, value, out.options)) {
    } else if (key == "functions" || key == "function_call") {
      refuse_unsupported_chat_field(key, value);
    } else {
      read_generation_field(key, value, limits, out.params);
    }
  }
  if (!has_messages) throw invalid_request("messages", "messages is required");
  if (top_logprobs > 0 && !out.params.want_logprobs)
    throw invalid_request("top_logprobs", "top_logprobs needs logprobs set to true");
  out.params.sampling.logprobs = top_logprobs;
  apply_tool_choice(out.tools, out.params, ToolShape::nested);
  validate_params(out.params, limits);
  return out;
}

bool read_chat_option(std::string_view key, simdjson::dom::element v, ChatOptions& options) {
  if (key == "tools") {
    read_tools(v, ToolShape::nested);
    options.tools = jinja::from_json(v);
  } else if (key == "add_generation_prompt") {
    options.add_generation_prompt = read_bool(v, "add_generation_prompt");
  } else if (key == "chat_template_kwargs") {
    read_object(v, "chat_template_kwargs");
    options.template_kwargs = jinja::from_json(v).as_dict();
  } else {
    return false;
  }
  return true;
}

std::string render_chat_prompt(const std::vector<ChatMessage>& messages) {
  std::string prompt;
  for (const auto& m : messages) prompt += "<|" + m.role + "|>\n" + m.content + "\n";
  return prompt + "<|assistant|>\n";
}

}  // namespace pagedserve::net
