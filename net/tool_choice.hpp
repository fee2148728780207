#pragma once
// The request side of tool calling: `tools`, `tool_choice` and
// `parallel_tool_calls` read and checked, and the two forced choices turned
// into a constraint for the grammar engine, as vLLM does:
//
//   tool_choice   what the model may answer            how
//   "none"        text (the template still shows the tools)
//   "auto"        text and/or calls                    parsed from the text (net/chat_output.hpp)
//   "required"    one or more calls                    a JSON Schema for the array
//                   [{"name": <a tool's name>, "parameters": <its parameters>}, ...]
//                 (minItems 1; maxItems 1 when parallel_tool_calls is false)
//   {"type": "function", "function": {"name": F}}
//                 a call of F                          F's parameters schema
//
// "auto" is the default when tools are given, "none" without. Chat
// Completions nests a tool's fields in "function"; the Responses API gives
// them flat ({"type": "function", "name", "parameters"}) and names a forced
// function as {"type": "function", "name": F}. Both are read here.

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "net/completion_request.hpp"

namespace pagedserve::net {

// One function a request offers the model.
struct ToolFunction {
  std::string name;
  std::string parameters;  // its JSON Schema as JSON text; "" when it takes none
};

enum class ToolChoiceMode { none, automatic, required, named };

struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::none;
  bool given = false;          // tool_choice was in the request
  std::string function;        // named: the function to call
  bool parallel_tool_calls = true;
};

struct ToolsRequest {
  std::vector<ToolFunction> functions;
  ToolChoice choice;
};

// Tool shapes: Chat Completions' {"type": "function", "function": {...}} or
// the Responses API's flat {"type": "function", "name", ...}.
enum class ToolShape { nested, flat };

// The functions of a "tools" list: each a function tool with a non-empty,
// unique name and, when given, an object as parameters. Throws ApiError
// naming the tool ("tools[1].function.name").
std::vector<ToolFunction> read_tools(simdjson::dom::element v, ToolShape shape);

// "none" | "auto" | "required" | a named function. Throws ApiError.
ToolChoice read_tool_choice(simdjson::dom::element v, ToolShape shape);

// After every field is read: the default choice, the checks that span
// fields (a named function must be one of the tools; required and named
// need tools and cannot be combined with another output constraint), and
// for required and named the constraint set on `params` (every schema
// compiled now, so a bad one is a 400 naming its tool). Throws ApiError.
void apply_tool_choice(ToolsRequest& tools, GenerationParams& params, ToolShape shape);

// The JSON Schema tool_choice "required" constrains the output to. A tool's
// own "$ref"s are rewritten to point into it where it now sits.
std::string required_tools_schema(const std::vector<ToolFunction>& functions, bool parallel_tool_calls);

// The schema of a named function's arguments: its parameters, or the empty
// object when it takes none.
std::string function_arguments_schema(const ToolFunction& function);

// The tools in Chat Completions' shape, as JSON text (a chat template
// expects {"type": "function", "function": {...}}): flat tools are nested,
// other JSON is kept as it is.
std::string nested_tools_json(simdjson::dom::element tools);

}  // namespace pagedserve::net
