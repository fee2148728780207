// tools, tool_choice and parallel_tool_calls in a chat request: the default
// choice, the constraint "required" and a named function become (checked by
// what the grammar accepts), and the refusals, each naming its field.

#include <catch2/catch.hpp>

#include "grammar/grammar_test_util.hpp"
#include "net/chat_request.hpp"
#include "net/responses_request.hpp"

using namespace pagedserve::net;
using pagedserve::testing::full_match;

namespace {

const std::string kWeather = R"({"type":"function","function":{"name":"get_weather","description":"Weather in a city",
  "parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":8},"days":{"type":"integer"}},
  "required":["city"],"additionalProperties":false}}})";
const std::string kTime = R"({"type":"function","function":{"name":"get_time"}})";

ChatRequest chat(const std::string& fields) {
  return parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],)" + fields + "}", InputLimits{});
}

ApiError refusal(const std::string& fields) {
  try {
    chat(fields);
  } catch (const ApiError& e) {
    return e;
  }
  FAIL("accepted: " << fields);
  return ApiError(0, "", "");
}

}  // namespace

TEST_CASE("tool_choice defaults to auto with tools and to none without; neither constrains", "[tool_choice]") {
  auto with_tools = chat(R"("tools":[)" + kWeather + "," + kTime + "]");
  CHECK(with_tools.tools.choice.mode == ToolChoiceMode::automatic);
  CHECK(with_tools.tools.choice.parallel_tool_calls);
  REQUIRE(with_tools.tools.functions.size() == 2);
  CHECK(with_tools.tools.functions[0].name == "get_weather");
  CHECK(with_tools.tools.functions[1].parameters.empty());
  CHECK(with_tools.params.sampling.constraint.empty());
  CHECK(with_tools.options.tools.is_list());  // the template still sees them
  CHECK(chat(R"("tools":[])").tools.choice.mode == ToolChoiceMode::none);
  CHECK(chat(R"("tool_choice":"auto")").tools.choice.mode == ToolChoiceMode::automatic);
  auto none = chat(R"("tools":[)" + kWeather + R"(],"tool_choice":"none","parallel_tool_calls":false)");
  CHECK(none.tools.choice.mode == ToolChoiceMode::none);
  CHECK_FALSE(none.tools.choice.parallel_tool_calls);
  CHECK(none.params.sampling.constraint.empty());
}

TEST_CASE("tool_choice required constrains the output to an array of calls of the tools", "[tool_choice]") {
  auto r = chat(R"("tools":[)" + kWeather + "," + kTime + R"(],"tool_choice":"required")");
  CHECK(r.tools.choice.mode == ToolChoiceMode::required);
  const auto& c = r.params.sampling.constraint;
  REQUIRE(c.kind == "json_schema");
  CHECK(full_match(c, R"([{"name":"get_weather","parameters":{"city":"Bern"}}])"));
  CHECK(full_match(c, R"([{"name": "get_time", "parameters": {}}, {"name":"get_weather","parameters":{"city":"x","days":3}}])"));
  CHECK_FALSE(full_match(c, "[]"));                                                    // at least one call
  CHECK_FALSE(full_match(c, R"([{"name":"get_news","parameters":{}}])"));              // only the tools
  CHECK_FALSE(full_match(c, R"([{"name":"get_weather","parameters":{"days":1}}])"));   // its own schema
  CHECK_FALSE(full_match(c, R"([{"name":"get_weather","parameters":{"city":"Ouagadougou"}}])"));
  CHECK_FALSE(full_match(c, R"([{"parameters":{},"name":"get_time"}])"));              // name first
  CHECK_FALSE(full_match(c, R"([{"name":"get_time"}])"));
  // parallel_tool_calls false: exactly one call, in either field order.
  for (const auto* fields : {R"(,"tool_choice":"required","parallel_tool_calls":false)",
                             R"(,"parallel_tool_calls":false,"tool_choice":"required")"}) {
    auto one = chat(R"("tools":[)" + kWeather + "," + kTime + "]" + fields);
    CHECK_FALSE(one.tools.choice.parallel_tool_calls);
    CHECK(full_match(one.params.sampling.constraint, R"([{"name":"get_time","parameters":{}}])"));
    CHECK_FALSE(full_match(one.params.sampling.constraint,
                           R"([{"name":"get_time","parameters":{}},{"name":"get_time","parameters":{}}])"));
  }
}

TEST_CASE("a tool's $refs keep pointing into its own schema inside the required array", "[tool_choice]") {
  const std::string tree = R"({"type":"function","function":{"name":"plant","parameters":{"type":"object",
    "properties":{"root":{"$ref":"#/$defs/node"}},"required":["root"],"additionalProperties":false,
    "$defs":{"node":{"type":"object","properties":{"v":{"enum":[1,2]},"kids":{"type":"array","maxItems":2,
    "items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}}}}})";
  const std::string self = R"({"type":"function","function":{"name":"nest","parameters":{"anyOf":[
    {"type":"object","properties":{"in":{"$ref":"#"}},"required":["in"],"additionalProperties":false},
    {"const":{"$ref":"#/nowhere"}}]}}})";
  auto r = chat(R"("tools":[)" + kWeather + "," + tree + "," + self + R"(],"tool_choice":"required")");
  const auto& c = r.params.sampling.constraint;
  CHECK(full_match(c, R"([{"name":"plant","parameters":{"root":{"v":1,"kids":[{"v":2},{"v":1,"kids":[]}]}}}])"));
  CHECK_FALSE(full_match(c, R"([{"name":"plant","parameters":{"root":{"v":3}}}])"));
  // "#" is the tool's parameters; a const that looks like a $ref is data.
  CHECK(full_match(c, R"([{"name":"nest","parameters":{"in":{"in":{"$ref":"#/nowhere"}}}}])"));
  CHECK_FALSE(full_match(c, R"([{"name":"nest","parameters":{"in":[{"name":"plant","parameters":{}}]}}])"));
  // Named: the schema is the tool's own, refs as they are.
  auto named = chat(R"("tools":[)" + tree + R"(],"tool_choice":{"type":"function","function":{"name":"plant"}})");
  CHECK(full_match(named.params.sampling.constraint, R"({"root":{"v":2}})"));
}

TEST_CASE("a named function constrains the output to its arguments", "[tool_choice]") {
  auto r = chat(R"("tools":[)" + kWeather + "," + kTime + R"(],"tool_choice":{"type":"function","function":{"name":"get_weather"}})");
  CHECK(r.tools.choice.mode == ToolChoiceMode::named);
  CHECK(r.tools.choice.function == "get_weather");
  CHECK(full_match(r.params.sampling.constraint, R"({"city":"Paris","days":2})"));
  CHECK_FALSE(full_match(r.params.sampling.constraint, R"({"days":2})"));
  // A function without parameters takes the empty object.
  auto none = chat(R"("tools":[)" + kTime + R"(],"tool_choice":{"type":"function","function":{"name":"get_time"}})");
  CHECK(full_match(none.params.sampling.constraint, "{}"));
  CHECK_FALSE(full_match(none.params.sampling.constraint, R"({"a":1})"));
}

TEST_CASE("bad tools and tool choices are 400s naming the field and the problem", "[tool_choice]") {
  struct Case {
    std::string fields, param, message;
  };
  const std::string tools = R"("tools":[)" + kWeather + "," + kTime + "]";
  const std::vector<Case> cases = {
      {tools + R"(,"tool_choice":{"type":"function","function":{"name":"get_news"}})", "tool_choice",
       "tool_choice names function 'get_news', which is not in tools"},
      {R"("tool_choice":"required")", "tool_choice", "needs tools"},
      {R"("tools":[],"tool_choice":{"type":"function","function":{"name":"f"}})", "tool_choice", "needs tools"},
      {tools + R"(,"tool_choice":"always")", "tool_choice", "tool_choice must be none, auto, required or"},
      {tools + R"(,"tool_choice":{"type":"function"})", "tool_choice.function", "is required"},
      {tools + R"(,"tool_choice":{"type":"code"})", "tool_choice.type", "must be \"function\""},
      {tools + R"(,"tool_choice":7)", "tool_choice", "tool_choice must be"},
      {tools + R"(,"parallel_tool_calls":"yes")", "parallel_tool_calls", "true or false"},
      {R"("tools":[{"type":"function"}])", "tools[0].function", "tools[0].function is required"},
      {R"("tools":[{"function":{"name":"f"}}])", "tools[0].type", "is required"},
      {R"("tools":[{"type":"web_search"}])", "tools[0].type", "'web_search' are not supported"},
      {R"("tools":[{"type":"function","function":{"description":"x"}}])", "tools[0].function.name", "is required"},
      {R"("tools":[{"type":"function","function":{"name":""}}])", "tools[0].function.name", "must not be empty"},
      {R"("tools":[)" + kTime + "," + kTime + "]", "tools[1].function.name", "two tools are named 'get_time'"},
      {R"("tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}])", "tools[0].function.parameters",
       "must be an object"},
      {R"("tools":"get_weather")", "tools", "must be an array"},
      // The grammar engine's refusal, for the tool at fault.
      {R"("tools":[)" + kTime + R"(,{"type":"function","function":{"name":"f","parameters":{"type":"object",
         "properties":{"n":{"type":"integer","minimum":1}}}}}],"tool_choice":"required")",
       "tools[1].function.parameters", "unsupported JSON Schema keyword 'minimum' at #/properties/n"},
      {R"("tools":[{"type":"function","function":{"name":"f","parameters":{"$ref":"#/$defs/x"}}}],)"
       R"("tool_choice":{"type":"function","function":{"name":"f"}})",
       "tools[0].function.parameters", "points nowhere"},
      {tools + R"(,"tool_choice":"required","response_format":{"type":"json_object"})", "tool_choice",
       "cannot be combined with response_format"},
      {tools + R"(,"guided_regex":"a+","tool_choice":{"type":"function","function":{"name":"get_time"}})", "tool_choice",
       "cannot be combined"},
      {R"("functions":[{"name":"f"}])", "functions", "not supported"},
  };
  for (const auto& c : cases) {
    INFO(c.fields);
    const auto e = refusal(c.fields);
    CHECK(e.status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK(e.param == c.param);
    CHECK_THAT(e.what(), Catch::Contains(c.message));
  }
  // An unsupported keyword is fine while nothing is enforced (auto, none).
  const std::string loose = R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",
    "properties":{"when":{"type":"string","format":"date-time"}}}}}])";
  CHECK_NOTHROW(chat(loose));
  CHECK_NOTHROW(chat(loose + R"(,"tool_choice":"none")"));
  CHECK_NOTHROW(chat(tools + R"(,"tool_choice":"auto","response_format":{"type":"json_object"})"));
}

TEST_CASE("the Responses API: flat tools, its tool_choice, and calls and results as input items", "[tool_choice]") {
  auto r = parse_responses_request(R"({"input":[
      {"role":"user","content":"Weather?"},
      {"type":"reasoning","id":"rs_1","summary":[]},
      {"type":"function_call","call_id":"call_a","name":"get_weather","arguments":"{\"city\":\"Bern\"}"},
      {"type":"function_call","call_id":"call_b","name":"get_time","arguments":"{}"},
      {"type":"function_call_output","call_id":"call_a","output":"21 C"},
      {"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"noon"}]}],
    "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},
             {"type":"function","name":"get_time"}],
    "tool_choice":{"type":"function","name":"get_time"},"parallel_tool_calls":false})",
                                   InputLimits{});
  CHECK(r.tools.choice.mode == ToolChoiceMode::named);
  CHECK(r.tools.choice.function == "get_time");
  CHECK_FALSE(r.tools.choice.parallel_tool_calls);
  CHECK(full_match(r.params.sampling.constraint, "{}"));
  CHECK(r.tool_choice_json == R"({"type":"function","name":"get_time"})");
  // The template sees the tools nested, as chat sends them.
  REQUIRE(r.options.tools.is_list());
  CHECK(r.options.tools.as_list()[0].get("function").get("name").as_string() == "get_weather");
  CHECK(r.options.tools.as_list()[1].get("type").as_string() == "function");
  // user, one assistant turn with both calls (the reasoning item skipped), two tool results.
  REQUIRE(r.input.size() == 4);
  CHECK(r.input[1].role == "assistant");
  const auto calls = r.input[1].fields.get("tool_calls").as_list();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].get("id").as_string() == "call_a");
  CHECK(calls[1].get("function").get("name").as_string() == "get_time");
  CHECK(calls[0].get("function").get("arguments").as_string() == R"({"city":"Bern"})");
  CHECK(r.input[2].role == "tool");
  CHECK(r.input[2].fields.get("tool_call_id").as_string() == "call_a");
  CHECK(r.input[3].content == "noon");

  const auto refused = [](const std::string& body) {
    try {
      parse_responses_request(body, InputLimits{});
    } catch (const ApiError& e) {
      return e.param;
    }
    return std::string("accepted");
  };
  CHECK(refused(R"({"input":"x","tools":[{"type":"function","function":{"name":"f"}}]})") == "tools[0].name");
  CHECK(refused(R"({"input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}})") ==
        "tool_choice");
  CHECK(refused(R"({"input":[{"type":"function_call","name":"f","arguments":"{}"}]})") == "function_call.call_id");
  CHECK(refused(R"({"input":[{"type":"function_call_output","call_id":"c"}]})") == "function_call_output.output");
  CHECK(refused(R"({"input":[{"type":"file_search_call","id":"x"}]})") == "input");
}
