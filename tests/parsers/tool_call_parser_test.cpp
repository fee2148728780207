// Tool calls of each family's format, whole and streamed in every cut;
// anything that is not a well-formed call stays content.

#include <catch2/catch.hpp>

#include <random>

#include "parsers/tool_call_parser.hpp"

using namespace pagedserve::parsers;

namespace {

ToolCallDelta stream_in_pieces(ToolCallFormat format, std::string_view text, std::mt19937& rng) {
  ToolCallStream stream(format);
  ToolCallDelta all;
  auto add = [&](ToolCallDelta d) {
    all.content += d.content;
    for (auto& c : d.calls) all.calls.push_back(c);
  };
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = 1 + rng() % 7;
    add(stream.feed(text.substr(at, n)));
    at += n;
  }
  add(stream.finish());
  return all;
}

}  // namespace

TEST_CASE("hermes calls between <tool_call> markers, with text around them", "[parsers]") {
  auto d = parse_tool_calls(ToolCallFormat::hermes,
                            "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                            "</tool_call>\n<tool_call>{\"name\":\"now\",\"arguments\":{}}</tool_call>");
  REQUIRE(d.calls.size() == 2);
  CHECK(d.calls[0].name == "get_weather");
  CHECK(d.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(d.calls[1].name == "now");
  CHECK(d.calls[1].arguments == "{}");
  CHECK(d.content == "Checking.\n\n");
}

TEST_CASE("a malformed hermes call stays in the content with its markers", "[parsers]") {
  const std::string text = "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call> and <tool_call>{oops</tool_call>";
  auto d = parse_tool_calls(ToolCallFormat::hermes, text);
  CHECK(d.calls.empty());
  CHECK(d.content == text);
  d = parse_tool_calls(ToolCallFormat::hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}");
  REQUIRE(d.calls.size() == 1);  // the end of the answer closes a call
  d = parse_tool_calls(ToolCallFormat::hermes, "<tool_call>{\"name\": \"f\"");
  CHECK(d.calls.empty());
  CHECK(d.content == "<tool_call>{\"name\": \"f\"");
}

TEST_CASE("llama3 json: the whole answer is one call or several separated by ';'", "[parsers]") {
  auto d = parse_tool_calls(ToolCallFormat::llama3_json,
                            " {\"name\": \"search\", \"parameters\": {\"q\": \"caf\\u00e9 \\\"x\\\" {\"}}");
  REQUIRE(d.calls.size() == 1);
  CHECK(d.calls[0].name == "search");
  CHECK(d.calls[0].arguments == "{\"q\":\"caf\u00e9 \\\"x\\\" {\"}");
  CHECK(d.content.empty());
  d = parse_tool_calls(ToolCallFormat::llama3_json,
                       "<|python_tag|>{\"name\": \"a\", \"arguments\": {}}; {\"name\": \"b\", \"parameters\": {\"n\": 2}}");
  REQUIRE(d.calls.size() == 2);
  CHECK(d.calls[1].arguments == R"({"n":2})");
  d = parse_tool_calls(ToolCallFormat::llama3_json, "The answer is {42}.");
  CHECK(d.calls.empty());
  CHECK(d.content == "The answer is {42}.");
  d = parse_tool_calls(ToolCallFormat::llama3_json, "{\"not\": \"a call\"}");
  CHECK(d.calls.empty());
  CHECK(d.content == "{\"not\": \"a call\"}");
}

TEST_CASE("mistral: [TOOL_CALLS] and an array of calls", "[parsers]") {
  auto d = parse_tool_calls(ToolCallFormat::mistral,
                            "Sure. [TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"x\": true}}, {\"name\": \"g\", \"arguments\": {}}]");
  REQUIRE(d.calls.size() == 2);
  CHECK(d.calls[0].arguments == R"({"x":true})");
  CHECK(d.content == "Sure. ");
  d = parse_tool_calls(ToolCallFormat::mistral, "[TOOL_CALLS] not json");
  CHECK(d.calls.empty());
  CHECK(d.content == "[TOOL_CALLS] not json");
}

TEST_CASE("formats are named and detected from a chat template's markers", "[parsers]") {
  CHECK(parse_tool_call_format("hermes") == ToolCallFormat::hermes);
  CHECK(parse_tool_call_format("llama3_json") == ToolCallFormat::llama3_json);
  CHECK(parse_tool_call_format("mistral") == ToolCallFormat::mistral);
  CHECK_FALSE(parse_tool_call_format("pythonic"));
  CHECK(tool_call_format_name(ToolCallFormat::llama3_json) == "llama3_json");
  CHECK(detect_tool_call_format("{{ '<tool_call>' }}") == ToolCallFormat::hermes);
  CHECK(detect_tool_call_format("[AVAILABLE_TOOLS] {{ tools | tojson }}") == ToolCallFormat::mistral);
  CHECK(detect_tool_call_format("<|start_header_id|>{% if tools %}") == ToolCallFormat::llama3_json);
  CHECK_FALSE(detect_tool_call_format("<|im_start|>{{ m.content }}"));
}

TEST_CASE("streaming tool calls in any cut gives the whole parse", "[parsers]") {
  struct Case {
    ToolCallFormat format;
    const char* text;
  };
  const Case cases[] = {
      {ToolCallFormat::hermes, "a<tool_call>{\"name\":\"f\",\"arguments\":{\"s\":\"</tool\"}}</tool_call>b<tool_c"},
      {ToolCallFormat::hermes, "<tool_call>{bad}</tool_call><tool_call>{\"name\":\"g\",\"arguments\":{}}</tool_call>"},
      {ToolCallFormat::llama3_json, "\n <|python_tag|>{\"name\":\"f\",\"parameters\":{\"a\":[1,2]}};{\"name\":\"g\",\"arguments\":{}}"},
      {ToolCallFormat::llama3_json, "<|python"},
      {ToolCallFormat::llama3_json, "plain text {\"name\":\"f\",\"arguments\":{}}"},
      {ToolCallFormat::mistral, "x [TOOL_CALLS][{\"name\":\"f\",\"arguments\":{\"k\":\"[TOOL_CALLS]\"}}]"},
      {ToolCallFormat::mistral, "no calls [TOOL_CALL"},
  };
  std::mt19937 rng(11);
  for (const auto& c : cases)
    for (int trial = 0; trial < 60; ++trial) {
      INFO(c.text);
      const auto whole = parse_tool_calls(c.format, c.text);
      const auto streamed = stream_in_pieces(c.format, c.text, rng);
      CHECK(streamed.content == whole.content);
      REQUIRE(streamed.calls.size() == whole.calls.size());
      for (std::size_t i = 0; i < whole.calls.size(); ++i) {
        CHECK(streamed.calls[i].name == whole.calls[i].name);
        CHECK(streamed.calls[i].arguments == whole.calls[i].arguments);
      }
    }
}
