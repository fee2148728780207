#include "parsers/tool_call_json.hpp"

#include <simdjson.h>

#include <string>

#include "parsers/held_marker.hpp"

namespace pagedserve::parsers {

namespace {

std::optional<ToolCall> call_from(simdjson::dom::element e) {
  simdjson::dom::object object;
  if (e.get(object)) return std::nullopt;
  std::string_view name;
  if (object["name"].get(name) || name.empty()) return std::nullopt;
  simdjson::dom::element args;
  if (object["arguments"].get(args) && object["parameters"].get(args)) return std::nullopt;
  if (args.type() != simdjson::dom::element_type::OBJECT) return std::nullopt;
  return ToolCall{std::string(name), simdjson::minify(args)};
}

// The end of the JSON object that starts `text` (one past its '}'), found
// by matching braces outside strings; npos when it does not close.
std::size_t object_end(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<ToolCall> parse_call_object(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  const simdjson::padded_string padded(trim(json));
  if (parser.parse(padded).get(e)) return std::nullopt;
  return call_from(e);
}

std::optional<std::vector<ToolCall>> parse_call_sequence(std::string_view text) {
  std::vector<ToolCall> calls;
  text = trim(text);
  while (!text.empty()) {
    if (text.front() != '{') return std::nullopt;
    const std::size_t end = object_end(text);
    if (end == std::string_view::npos) return std::nullopt;
    auto call = parse_call_object(text.substr(0, end));
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
    text = trim_left(text.substr(end));
    if (!text.empty() && text.front() == ';') text = trim_left(text.substr(1));
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

std::optional<std::vector<ToolCall>> parse_call_array(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  const simdjson::padded_string padded(trim(json));
  if (parser.parse(padded).get(array)) return std::nullopt;
  std::vector<ToolCall> calls;
  for (auto e : array) {
    auto call = call_from(e);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

}  // namespace pagedserve::parsers
