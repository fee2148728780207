// The response side of tool calls and reasoning: model-like text through
// ChatOutput, whole and streamed in random cuts (the same message either
// way), and the OpenAI shapes chat_body and chat_chunk write for it.

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <random>

#include "net/chat_output.hpp"

using namespace pagedserve::net;
using pagedserve::parsers::ToolCallFormat;

namespace {

ChatOutputOptions automatic(ToolCallFormat format, bool parallel = true) {
  ChatOutputOptions o;
  o.tools = ToolChoiceMode::automatic;
  o.format = format;
  o.parallel_tool_calls = parallel;
  return o;
}

// Everything a stream says, put together as a client would.
struct Streamed {
  std::string reasoning, content;
  std::vector<ToolCallOut> calls;
  std::vector<ToolCallPiece> pieces;
  std::string finish_reason;
  ChatMessageOut message;
};

Streamed stream(const ChatOutputOptions& options, std::string_view text, std::mt19937& rng, std::string finish = "stop") {
  ChatOutput output(options);
  Streamed s;
  auto add = [&](const ChatDelta& d) {
    s.reasoning += d.reasoning;
    s.content += d.content;
    for (const auto& p : d.tool_calls) {
      s.pieces.push_back(p);
      if (p.first) {
        REQUIRE(p.index == static_cast<int>(s.calls.size()));
        CHECK(p.arguments.empty());
        s.calls.push_back({p.id, p.name, ""});
      } else {
        REQUIRE(p.index == static_cast<int>(s.calls.size()) - 1);
        s.calls.back().arguments += p.arguments;
      }
    }
  };
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = 1 + rng() % 6;
    add(output.feed(text.substr(at, n)));
    at += n;
  }
  add(output.finish(finish));
  s.finish_reason = finish;
  s.message = output.message();
  return s;
}

// The whole message and its finish reason, checked against streaming it.
ChatMessageOut whole(const ChatOutputOptions& options, std::string_view text, std::string& finish) {
  const std::string generated = finish;
  ChatMessageOut m = chat_message(options, text, finish);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    Streamed s = stream(options, text, rng, generated);
    CHECK(s.finish_reason == finish);
    CHECK(s.reasoning == m.reasoning);
    REQUIRE(s.calls.size() == m.tool_calls.size());
    for (std::size_t c = 0; c < s.calls.size(); ++c) {
      CHECK(s.calls[c].name == m.tool_calls[c].name);
      CHECK(s.calls[c].arguments == m.tool_calls[c].arguments);
    }
    if (m.tool_calls.empty()) CHECK(s.content == m.content.value_or(""));
  }
  return m;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(json).get(e));
  return e;
}

}  // namespace

TEST_CASE("auto with hermes: calls become tool_calls, the text around them content", "[chat_output]") {
  std::string finish = "stop";
  auto m = whole(automatic(ToolCallFormat::hermes),
                 "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Bern\"}}\n</tool_call>\n"
                 "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>",
                 finish);
  CHECK(finish == "tool_calls");
  REQUIRE(m.content);
  CHECK(*m.content == "Let me check.");
  REQUIRE(m.tool_calls.size() == 2);
  CHECK(m.tool_calls[0].name == "get_weather");
  CHECK(m.tool_calls[0].arguments == R"({"city":"Bern"})");
  CHECK(m.tool_calls[1].arguments == "{}");
  CHECK(m.tool_calls[0].id.rfind("call_", 0) == 0);
  CHECK(m.tool_calls[0].id.size() == 29);
  CHECK(m.tool_calls[0].id != m.tool_calls[1].id);
  CHECK_FALSE(m.with_reasoning);

  // Only calls: content is null. No calls: the text, finish reason kept.
  finish = "stop";
  CHECK_FALSE(whole(automatic(ToolCallFormat::hermes), "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>\n", finish).content);
  finish = "length";
  m = whole(automatic(ToolCallFormat::hermes), "Once upon a <tool_call>{\"name\": broken", finish);
  CHECK(finish == "length");
  CHECK(m.tool_calls.empty());
  CHECK(*m.content == "Once upon a <tool_call>{\"name\": broken");
}

TEST_CASE("auto: a possible marker is held back, never streamed as content", "[chat_output]") {
  ChatOutput output(automatic(ToolCallFormat::hermes));
  CHECK(output.feed("Sure <tool").content == "Sure ");
  CHECK(output.feed("_ca").empty());
  ChatDelta d = output.feed("ll>{\"name\": \"f\", \"arguments\": {\"x\": 1}}</tool_call> done");
  CHECK(d.content == " done");
  REQUIRE(d.tool_calls.size() == 2);
  CHECK(d.tool_calls[0].first);
  CHECK(d.tool_calls[0].name == "f");
  CHECK(d.tool_calls[0].arguments.empty());
  CHECK(d.tool_calls[1].arguments == R"({"x":1})");
  // Text that turns out not to be a marker comes out after all.
  ChatOutput plain(automatic(ToolCallFormat::hermes));
  CHECK(plain.feed("a <tool").content == "a ");
  CHECK(plain.feed("box>").content == "<toolbox>");
}

TEST_CASE("auto with mistral and llama3_json; parallel_tool_calls false keeps the first call", "[chat_output]") {
  std::string finish = "stop";
  auto m = whole(automatic(ToolCallFormat::mistral),
                 "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"n\": 1}}, {\"name\": \"b\", \"arguments\": {}}]", finish);
  CHECK(finish == "tool_calls");
  REQUIRE(m.tool_calls.size() == 2);
  CHECK(m.tool_calls[1].name == "b");
  finish = "stop";
  m = whole(automatic(ToolCallFormat::llama3_json, false),
            "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"q\": \"x\"}}; {\"name\": \"b\", \"parameters\": {}}", finish);
  REQUIRE(m.tool_calls.size() == 1);
  CHECK(m.tool_calls[0].name == "a");
  CHECK(m.tool_calls[0].arguments == R"({"q":"x"})");
  finish = "stop";
  m = whole(automatic(ToolCallFormat::llama3_json), "It is sunny.", finish);
  CHECK(finish == "stop");
  CHECK(*m.content == "It is sunny.");
  // Without a parser (none known), auto leaves the text alone.
  ChatOutputOptions no_parser;
  no_parser.tools = ToolChoiceMode::automatic;
  CHECK_FALSE(splits_output(no_parser));
}

TEST_CASE("required: the constrained array streams each call's name, then its arguments as generated", "[chat_output]") {
  ChatOutputOptions o;
  o.tools = ToolChoiceMode::required;
  const std::string text =
      R"([{"name": "get_weather", "parameters": {"city": "Bern, \"CH\"", "days": [1, {"}": 2}]}}, {"name":"now","parameters":{}}])";
  std::string finish = "stop";
  auto m = whole(o, text, finish);
  CHECK(finish == "tool_calls");
  CHECK_FALSE(m.content);
  REQUIRE(m.tool_calls.size() == 2);
  CHECK(m.tool_calls[0].name == "get_weather");
  CHECK(m.tool_calls[0].arguments == R"({"city": "Bern, \"CH\"", "days": [1, {"}": 2}]})");
  CHECK(m.tool_calls[1].name == "now");
  CHECK(m.tool_calls[1].arguments == "{}");

  // Streamed a character at a time: a header per call, then many fragments.
  ChatOutput output(o);
  std::vector<ToolCallPiece> pieces;
  for (char c : text)
    for (auto& p : output.feed(std::string_view(&c, 1)).tool_calls) pieces.push_back(p);
  finish = "stop";
  CHECK(output.finish(finish).empty());
  REQUIRE(pieces.size() > 10);
  CHECK(pieces[0].first);
  CHECK(pieces[0].name == "get_weather");
  CHECK(pieces[0].id == output.message().tool_calls[0].id);
  CHECK(pieces[1].arguments == "{");

  // An array cut by max_tokens is no call: the text stays content.
  finish = "length";
  m = chat_message(o, R"([{"name": "get_weather", "parameters": {"city": "Be)", finish);
  CHECK(finish == "length");
  CHECK(m.tool_calls.empty());
  CHECK(*m.content == R"([{"name": "get_weather", "parameters": {"city": "Be)");
}

TEST_CASE("named: the constrained text is the arguments of one call of that function", "[chat_output]") {
  ChatOutputOptions o;
  o.tools = ToolChoiceMode::named;
  o.function = "get_weather";
  std::string finish = "stop";
  auto m = whole(o, R"({"city": "Zürich"})", finish);
  CHECK(finish == "stop");  // as vLLM answers a named tool choice
  CHECK_FALSE(m.content);
  REQUIRE(m.tool_calls.size() == 1);
  CHECK(m.tool_calls[0].name == "get_weather");
  CHECK(m.tool_calls[0].arguments == R"({"city": "Zürich"})");
}

TEST_CASE("reasoning: <think> becomes reasoning_content, whole and streamed, before tool calls", "[chat_output]") {
  ChatOutputOptions o = automatic(ToolCallFormat::hermes);
  o.reasoning = true;
  std::string finish = "stop";
  auto m = whole(o, "<think>\nThe user wants weather.\n</think>\n\n<tool_call>{\"name\": \"w\", \"arguments\": {}}</tool_call>", finish);
  CHECK(m.with_reasoning);
  CHECK(m.reasoning == "The user wants weather.\n");
  CHECK_FALSE(m.content);
  CHECK(finish == "tool_calls");
  ChatOutputOptions think;
  think.reasoning = true;
  think.reasoning_starts_inside = true;  // the template opened <think>
  CHECK(splits_output(think));
  finish = "stop";
  m = whole(think, "Two and two.</think>\n\nFour.", finish);
  CHECK(m.reasoning == "Two and two.");
  CHECK(*m.content == "Four.");
  // The options: a constraint turns the reasoning parser off.
  ToolChoice c;
  CHECK(chat_output_options(c, std::nullopt, true, false, "<|im_start|>assistant\n<think>\n").reasoning_starts_inside);
  CHECK_FALSE(chat_output_options(c, std::nullopt, true, false, "<|im_start|>assistant\n").reasoning_starts_inside);
  CHECK_FALSE(chat_output_options(c, std::nullopt, true, true, "x").reasoning);
  CHECK_FALSE(splits_output(chat_output_options(c, ToolCallFormat::hermes, false, false, "x")));  // tool_choice none
}

TEST_CASE("chat_body and chat_chunk write tool_calls and reasoning_content in OpenAI's shape", "[chat_output]") {
  ResponseMeta meta{"chatcmpl-1", 5, "m"};
  Choice c;
  c.text = "raw";
  c.finish_reason = "tool_calls";
  c.message = ChatMessageOut{true, "", std::nullopt, {{"call_1", "get_weather", R"({"city":"Bern"})"}}};
  simdjson::dom::parser parser;
  auto body = parse(parser, chat_body(meta, {c}, false, {}));
  auto message = body["choices"].at(0)["message"];
  CHECK(message["role"].get_string().value() == "assistant");
  CHECK(message["content"].is_null());
  CHECK(message["reasoning_content"].is_null());
  auto call = message["tool_calls"].at(0);
  CHECK(call["id"].get_string().value() == "call_1");
  CHECK(call["type"].get_string().value() == "function");
  CHECK(call["function"]["name"].get_string().value() == "get_weather");
  CHECK(call["function"]["arguments"].get_string().value() == R"({"city":"Bern"})");
  CHECK(body["choices"].at(0)["finish_reason"].get_string().value() == "tool_calls");

  // Without parsing: content is the text, no tool_calls or reasoning keys.
  Choice plain;
  plain.text = "hi";
  auto p = parse(parser, chat_body(meta, {plain}, false, {}));
  CHECK(p["choices"].at(0)["message"]["content"].get_string().value() == "hi");
  CHECK(p["choices"].at(0)["message"]["tool_calls"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(p["choices"].at(0)["message"]["reasoning_content"].error() == simdjson::NO_SUCH_FIELD);

  const ToolCallPiece first{0, "call_1", "get_weather", "", true};
  auto chunk = parse(parser, chat_chunk(meta, 0, ChatChunkDelta{"assistant", "", "", &first}, nullptr, ""));
  auto delta = chunk["choices"].at(0)["delta"];
  CHECK(delta["role"].get_string().value() == "assistant");
  auto piece = delta["tool_calls"].at(0);
  CHECK(piece["index"].get_int64().value() == 0);
  CHECK(piece["id"].get_string().value() == "call_1");
  CHECK(piece["type"].get_string().value() == "function");
  CHECK(piece["function"]["name"].get_string().value() == "get_weather");
  CHECK(piece["function"]["arguments"].get_string().value().empty());
  const ToolCallPiece more{0, "", "", R"({"ci)", false};
  chunk = parse(parser, chat_chunk(meta, 0, ChatChunkDelta{"", "", "", &more}, nullptr, ""));
  piece = chunk["choices"].at(0)["delta"]["tool_calls"].at(0);
  CHECK(piece["id"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(piece["function"]["name"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(piece["function"]["arguments"].get_string().value() == R"({"ci)");
  CHECK(chunk["choices"].at(0)["delta"]["content"].error() == simdjson::NO_SUCH_FIELD);
  chunk = parse(parser, chat_chunk(meta, 0, ChatChunkDelta{"", "Hmm", "", nullptr}, nullptr, ""));
  CHECK(chunk["choices"].at(0)["delta"]["reasoning_content"].get_string().value() == "Hmm");
}
