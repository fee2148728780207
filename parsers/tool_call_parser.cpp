#include "parsers/tool_call_parser.hpp"

#include "parsers/held_marker.hpp"
#include "parsers/tool_call_json.hpp"

namespace pagedserve::parsers {

namespace {

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralCalls = "[TOOL_CALLS]";

struct FormatName {
  ToolCallFormat format;
  std::string_view name;
};
constexpr FormatName kFormats[] = {
    {ToolCallFormat::hermes, "hermes"},
    {ToolCallFormat::llama3_json, "llama3_json"},
    {ToolCallFormat::mistral, "mistral"},
};

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

void append(ToolCallDelta& to, ToolCallDelta from) {
  to.content += from.content;
  for (auto& c : from.calls) to.calls.push_back(std::move(c));
}

}  // namespace

std::optional<ToolCallFormat> parse_tool_call_format(std::string_view name) {
  for (const auto& f : kFormats)
    if (f.name == name) return f.format;
  return std::nullopt;
}

std::string_view tool_call_format_name(ToolCallFormat format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.name;
  return "";
}

std::optional<ToolCallFormat> detect_tool_call_format(std::string_view chat_template) {
  if (contains(chat_template, kHermesOpen)) return ToolCallFormat::hermes;
  if (contains(chat_template, kMistralCalls) || contains(chat_template, "[AVAILABLE_TOOLS]")) return ToolCallFormat::mistral;
  if (contains(chat_template, kPythonTag) ||
      (contains(chat_template, "<|start_header_id|>") && contains(chat_template, "tools")))
    return ToolCallFormat::llama3_json;
  return std::nullopt;
}

ToolCallStream::ToolCallStream(ToolCallFormat format) : format_(format) {}

// Calls anywhere in the text, each between its markers.
void ToolCallStream::feed_hermes(ToolCallDelta& out) {
  for (;;) {
    if (!inside_) {
      if (!take_until_marker(held_, kHermesOpen, out.content)) return;
      inside_ = true;
    }
    const auto close = held_.find(kHermesClose);
    if (close == std::string::npos) return;
    const std::string body = held_.substr(0, close);
    held_.erase(0, close + kHermesClose.size());
    inside_ = false;
    if (auto call = parse_call_object(body)) out.calls.push_back(std::move(*call));
    else out.content.append(kHermesOpen).append(body).append(kHermesClose);
  }
}

// The first non-space characters decide: a call starts with <|python_tag|>
// or '{' and runs to the end of the answer.
void ToolCallStream::feed_llama3(ToolCallDelta& out) {
  if (!decided_) {
    const std::string_view rest = trim_left(held_);
    if (rest.empty()) return;
    if (rest.size() < kPythonTag.size() && kPythonTag.substr(0, rest.size()) == rest) return;
    inside_ = rest.front() == '{' || rest.substr(0, kPythonTag.size()) == kPythonTag;
    decided_ = true;
  }
  if (!inside_) {
    out.content += held_;
    held_.clear();
  }
}

// Text, then [TOOL_CALLS] and the array of calls to the end of the answer.
void ToolCallStream::feed_mistral(ToolCallDelta& out) {
  if (!inside_) inside_ = take_until_marker(held_, kMistralCalls, out.content);
}

ToolCallDelta ToolCallStream::feed(std::string_view text) {
  ToolCallDelta out;
  held_.append(text);
  switch (format_) {
    case ToolCallFormat::hermes: feed_hermes(out); break;
    case ToolCallFormat::llama3_json: feed_llama3(out); break;
    case ToolCallFormat::mistral: feed_mistral(out); break;
  }
  return out;
}

ToolCallDelta ToolCallStream::finish() {
  ToolCallDelta out;
  std::string rest;
  rest.swap(held_);
  if (!inside_) {
    out.content = std::move(rest);
    return out;
  }
  std::optional<std::vector<ToolCall>> calls;
  std::string_view marker;
  switch (format_) {
    case ToolCallFormat::hermes:  // closed by the end of the answer
      marker = kHermesOpen;
      if (auto call = parse_call_object(rest)) calls = std::vector<ToolCall>{std::move(*call)};
      break;
    case ToolCallFormat::llama3_json: {
      std::string_view body = trim_left(rest);
      if (body.substr(0, kPythonTag.size()) == kPythonTag) body.remove_prefix(kPythonTag.size());
      calls = parse_call_sequence(body);
      break;
    }
    case ToolCallFormat::mistral:
      marker = kMistralCalls;
      calls = parse_call_array(rest);
      break;
  }
  if (calls) out.calls = std::move(*calls);
  else out.content = std::string(marker) + rest;
  return out;
}

ToolCallDelta parse_tool_calls(ToolCallFormat format, std::string_view text) {
  ToolCallStream stream(format);
  ToolCallDelta all = stream.feed(text);
  append(all, stream.finish());
  return all;
}

}  // namespace pagedserve::parsers
