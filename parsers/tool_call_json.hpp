#pragma once
// The JSON side of tool calls: one call object, a ';'-separated run of them,
// or an array of them, each {"name": string, "arguments"|"parameters": object}.

#include <optional>
#include <string_view>
#include <vector>

#include "parsers/tool_call_parser.hpp"

namespace pagedserve::parsers {

std::optional<ToolCall> parse_call_object(std::string_view json);
// Objects separated by ';' (and whitespace); nullopt unless every one is a call.
std::optional<std::vector<ToolCall>> parse_call_sequence(std::string_view text);
std::optional<std::vector<ToolCall>> parse_call_array(std::string_view json);

}  // namespace pagedserve::parsers
