#include "net/tool_choice.hpp"

#include <set>

#include "grammar/constraint.hpp"
#include "net/json_read.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

constexpr std::size_t kMaxNameBytes = 256;
constexpr std::string_view kNoParameters = R"({"type":"object","properties":{},"additionalProperties":false})";
constexpr std::string_view kChoices = R"(none, auto, required or {"type": "function", "function": {"name": ...}})";
constexpr std::string_view kFlatChoices = R"(none, auto, required or {"type": "function", "name": ...})";

std::string tool_field(std::size_t i, ToolShape shape, std::string_view key) {
  return "tools[" + std::to_string(i) + "]" + (shape == ToolShape::nested ? ".function." : ".") + std::string(key);
}

// The object holding a tool's name and parameters.
simdjson::dom::object function_object(element tool, std::size_t i, ToolShape shape) {
  const std::string where = "tools[" + std::to_string(i) + "]";
  auto obj = read_object(tool, where);
  std::string_view type;
  if (obj["type"].get(type)) throw invalid_request(where + ".type", where + ".type is required (\"function\")");
  if (type != "function")
    throw invalid_request(where + ".type", "tools of type '" + std::string(type) + "' are not supported (only function)");
  if (shape == ToolShape::flat) return obj;
  element fn;
  if (obj["function"].get(fn) || fn.is_null()) throw invalid_request(where + ".function", where + ".function is required");
  return read_object(fn, where + ".function");
}

bool is_empty_object(element e) {
  simdjson::dom::object o;
  return !e.get(o) && o.size() == 0;
}

// Writes `schema` with every "$ref": "#..." pointed below `prefix` (the
// JSON pointer of where the schema now sits). Values that are data, not
// schemas (const, enum, default, examples), are copied as they are.
void write_relocated(std::string& out, element schema, std::string_view prefix) {
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (!schema.get(obj)) {
    out += '{';
    bool first = true;
    for (auto [key, value] : obj) {
      if (!first) out += ',';
      first = false;
      out += json_quote(key);
      out += ':';
      std::string_view ref;
      if (key == "$ref" && !value.get(ref) && !ref.empty() && ref[0] == '#') {
        out += json_quote(std::string("#") + std::string(prefix) + std::string(ref.substr(1)));
      } else if (key == "const" || key == "enum" || key == "default" || key == "examples") {
        out += simdjson::to_string(value);
      } else {
        write_relocated(out, value, prefix);
      }
    }
    out += '}';
  } else if (!schema.get(arr)) {
    out += '[';
    bool first = true;
    for (element item : arr) {
      if (!first) out += ',';
      first = false;
      write_relocated(out, item, prefix);
    }
    out += ']';
  } else {
    out += simdjson::to_string(schema);
  }
}

// Compiles now, so that the refusal names the field.
void check_compiles(const std::string& schema, const std::string& field) {
  try {
    grammar::compile({"json_schema", schema});
  } catch (const grammar::GrammarError& e) {
    throw invalid_request(field, field + ": " + e.what());
  }
}

std::string mode_name(const ToolChoice& c) {
  switch (c.mode) {
    case ToolChoiceMode::none: return "'none'";
    case ToolChoiceMode::automatic: return "'auto'";
    case ToolChoiceMode::required: return "'required'";
    case ToolChoiceMode::named: return "naming function '" + c.function + "'";
  }
  return "";
}

}  // namespace

std::vector<ToolFunction> read_tools(element v, ToolShape shape) {
  std::vector<ToolFunction> out;
  std::set<std::string> names;
  std::size_t i = 0;
  for (element tool : read_array(v, "tools")) {
    auto fn = function_object(tool, i, shape);
    ToolFunction f;
    element name;
    if (fn["name"].get(name)) throw invalid_request(tool_field(i, shape, "name"), tool_field(i, shape, "name") + " is required");
    f.name = read_string(name, tool_field(i, shape, "name"), kMaxNameBytes);
    if (f.name.empty()) throw invalid_request(tool_field(i, shape, "name"), tool_field(i, shape, "name") + " must not be empty");
    if (!names.insert(f.name).second)
      throw invalid_request(tool_field(i, shape, "name"), "two tools are named '" + f.name + "'");
    element parameters;
    if (!fn["parameters"].get(parameters) && !parameters.is_null()) {
      read_object(parameters, tool_field(i, shape, "parameters"));
      if (!is_empty_object(parameters)) f.parameters = simdjson::to_string(parameters);
    }
    out.push_back(std::move(f));
    ++i;
  }
  return out;
}

ToolChoice read_tool_choice(element v, ToolShape shape) {
  ToolChoice c;
  c.given = true;
  const std::string_view expected = shape == ToolShape::nested ? kChoices : kFlatChoices;
  std::string_view s;
  if (!v.get(s)) {
    if (s == "none") c.mode = ToolChoiceMode::none;
    else if (s == "auto") c.mode = ToolChoiceMode::automatic;
    else if (s == "required") c.mode = ToolChoiceMode::required;
    else throw invalid_request("tool_choice", "tool_choice must be " + std::string(expected) + ", got '" + std::string(s) + "'");
    return c;
  }
  simdjson::dom::object obj;
  if (v.get(obj)) throw invalid_request("tool_choice", "tool_choice must be " + std::string(expected));
  std::string_view type;
  if (obj["type"].get(type) || type != "function")
    throw invalid_request("tool_choice.type", "tool_choice.type must be \"function\"");
  // Chat Completions nests the name in "function"; Responses puts it inline
  // (either is taken from either API, as clients mix them up).
  element name;
  std::string field = "tool_choice.name";
  element fn;
  if (!obj["function"].get(fn)) {
    field = "tool_choice.function.name";
    if (read_object(fn, "tool_choice.function")["name"].get(name))
      throw invalid_request(field, field + " is required");
  } else if (obj["name"].get(name)) {
    field = shape == ToolShape::nested ? "tool_choice.function" : "tool_choice.name";
    throw invalid_request(field, field + " is required");
  }
  c.function = read_string(name, field, kMaxNameBytes);
  c.mode = ToolChoiceMode::named;
  return c;
}

std::string function_arguments_schema(const ToolFunction& function) {
  return function.parameters.empty() ? std::string(kNoParameters) : function.parameters;
}

std::string required_tools_schema(const std::vector<ToolFunction>& functions, bool parallel_tool_calls) {
  std::string out = R"({"type":"array","minItems":1,)";
  if (!parallel_tool_calls) out += R"("maxItems":1,)";
  out += R"("items":{"anyOf":[)";
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < functions.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"type":"object","properties":{"name":{"const":)" + json_quote(functions[i].name) + R"(},"parameters":)";
    const std::string pointer = "/items/anyOf/" + std::to_string(i) + "/properties/parameters";
    const std::string params = function_arguments_schema(functions[i]);
    element schema;
    if (parser.parse(params).get(schema)) out += kNoParameters;  // read_tools gave it as valid JSON
    else write_relocated(out, schema, pointer);
    out += R"(},"required":["name","parameters"],"additionalProperties":false})";
  }
  out += "]}}";
  return out;
}

void apply_tool_choice(ToolsRequest& tools, GenerationParams& params, ToolShape shape) {
  ToolChoice& c = tools.choice;
  if (!c.given) c.mode = tools.functions.empty() ? ToolChoiceMode::none : ToolChoiceMode::automatic;
  if (c.mode != ToolChoiceMode::required && c.mode != ToolChoiceMode::named) return;
  if (tools.functions.empty())
    throw invalid_request("tool_choice", "tool_choice " + mode_name(c) + " needs tools to call, and tools is empty or missing");
  if (!params.sampling.constraint.empty())
    throw invalid_request("tool_choice", "tool_choice " + mode_name(c) +
                                             " constrains the output to tool calls; it cannot be combined with "
                                             "response_format, guided_* or structured_outputs");
  std::string schema;
  if (c.mode == ToolChoiceMode::named) {
    std::size_t i = 0;
    while (i < tools.functions.size() && tools.functions[i].name != c.function) ++i;
    if (i == tools.functions.size())
      throw invalid_request("tool_choice", "tool_choice names function '" + c.function + "', which is not in tools");
    schema = function_arguments_schema(tools.functions[i]);
    check_compiles(schema, tool_field(i, shape, "parameters"));
  } else {
    for (std::size_t i = 0; i < tools.functions.size(); ++i)
      check_compiles(function_arguments_schema(tools.functions[i]), tool_field(i, shape, "parameters"));
    schema = required_tools_schema(tools.functions, c.parallel_tool_calls);
    check_compiles(schema, "tools");
  }
  params.sampling.constraint = {"json_schema", std::move(schema)};
}

std::string nested_tools_json(element tools) {
  simdjson::dom::array arr;
  if (tools.get(arr)) return simdjson::to_string(tools);
  std::string out = "[";
  bool first = true;
  for (element tool : arr) {
    if (!first) out += ',';
    first = false;
    simdjson::dom::object obj;
    element fn;
    if (tool.get(obj) || !obj["function"].get(fn)) {
      out += simdjson::to_string(tool);
      continue;
    }
    // {"type": "function", "function": {every other field}}
    out += R"({"type":"function","function":{)";
    bool first_field = true;
    for (auto [key, value] : obj) {
      if (key == "type") continue;
      if (!first_field) out += ',';
      first_field = false;
      out += json_quote(key) + ":" + simdjson::to_string(value);
    }
    out += "}}";
  }
  return out + "]";
}

}  // namespace pagedserve::net
