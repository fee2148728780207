// The four chat templates of tests/data/chat_templates (written here in the
// style of Llama 3.1, ChatML/Qwen2.5, Qwen3 and Mistral) rendered by this
// engine and by python3-jinja2 over hand-picked and a few hundred random
// conversations: every output must be the same bytes, and every
// raise_exception must happen in both.
#include <catch2/catch.hpp>

#include <random>

#include "net/json_writer.hpp"
#include "oracle.hpp"
#include "test_util.hpp"

using pagedserve::net::JsonWriter;
using pagedserve::testing::RenderCase;

namespace {

std::string template_file(const std::string& name) {
  return pagedserve::testing::read_file(std::string(PAGEDSERVE_SOURCE_DIR) + "/tests/data/chat_templates/" + name);
}

const char* const kTools = R"json([
 {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city (°C), e.g. Zürich",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}}},
  "required": ["city"]}}},
 {"type": "function", "function": {"name": "add", "description": "Adds two numbers", "parameters": {"type": "object",
  "properties": {"a": {"type": "number"}, "b": {"type": "number", "default": 1.5}}}}}])json";

const std::vector<std::string> kContents = {
    "Hello!", "", "  padded with spaces  ", "line one\nline two\n", "ünïcödé 日本語 🙂 ok", "quotes \" ' \\ and {{ braces }} {% tags %}",
    "<think>\nI should add.\n</think>\n\nThe answer is 3.", "<tool_response>partial</tool_response>", "[INST] not a real tag [/INST]",
    "\ttabbed\ttext", "<|im_start|>literal special text", "multi\n\n\nblank lines", "x"};

// A conversation as JSON: optional system, alternating user/assistant turns,
// sometimes tool calls answered by tool messages, then the variables.
std::string random_variables(std::mt19937& rng) {
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  const bool with_tools = chance(0.4);
  JsonWriter w;
  w.begin_object().key("messages").begin_array();
  if (chance(0.5)) w.begin_object().field("role", "system").field("content", kContents[pick(kContents.size())]).end_object();
  const std::size_t turns = 1 + pick(5);
  for (std::size_t t = 0; t < turns; ++t) {
    w.begin_object().field("role", chance(0.03) ? "assistant" : "user").field("content", kContents[pick(kContents.size())]).end_object();
    if (t + 1 == turns && chance(0.6)) break;
    w.begin_object().field("role", "assistant");
    if (with_tools && chance(0.5)) {
      w.field("content", chance(0.5) ? std::string() : kContents[pick(kContents.size())]);
      w.key("tool_calls").begin_array().begin_object().field("type", "function").key("function").begin_object().field("name", "add");
      if (chance(0.5)) w.key("arguments").begin_object().field("a", 1).field("b", 2.5).end_object();
      else w.field("arguments", "{\"a\": 1, \"b\": 2}");
      w.end_object().end_object().end_array().end_object();
      const std::size_t results = 1 + pick(2);
      for (std::size_t r = 0; r < results; ++r)
        w.begin_object().field("role", "tool").field("content", r ? "3.5" : "{\"sum\": 3.5}").end_object();
      continue;
    }
    w.field("content", kContents[pick(kContents.size())]);
    if (chance(0.2)) w.field("reasoning_content", "\nthinking about " + kContents[pick(kContents.size())] + "\n");
    w.end_object();
  }
  w.end_array();
  std::string vars = w.take();
  vars += std::string(",\"tools\":") + (with_tools ? kTools : "null");
  vars += std::string(",\"add_generation_prompt\":") + (chance(0.8) ? "true" : "false");
  if (chance(0.5)) vars += std::string(",\"enable_thinking\":") + (chance(0.5) ? "true" : "false");
  return vars + ",\"bos_token\":\"<s>\",\"eos_token\":\"</s>\"}";
}

// Conversations every template must handle, plus a few it must refuse.
std::vector<std::string> hand_picked_variables() {
  const std::string tail = ",\"bos_token\":\"<|begin_of_text|>\",\"eos_token\":\"<|eot_id|>\"}";
  const std::vector<std::string> messages = {
      R"([{"role": "user", "content": "Hi"}])",
      R"([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}])",
      R"([{"role": "system", "content": "S"}, {"role": "user", "content": "1"}, {"role": "assistant", "content": "2"}, {"role": "user", "content": "3"}])",
      R"([{"role": "user", "content": ""}, {"role": "assistant", "content": ""}, {"role": "user", "content": "日本語 🙂"}])",
      R"([{"role": "user", "content": "What is 1+2?"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 1, "b": 2}}}]}, {"role": "tool", "content": "3"}, {"role": "assistant", "content": "<think>\nsum\n</think>\n\n3"}, {"role": "user", "content": "thanks"}])",
      R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])",
      R"([{"role": "system", "content": "only a system message"}])",
  };
  std::vector<std::string> out;
  for (const auto& m : messages)
    for (const char* tools : {"null", kTools})
      for (const char* gen : {"true", "false"})
        out.push_back("{\"messages\":" + m + ",\"tools\":" + tools + ",\"add_generation_prompt\":" + gen + tail);
  out.push_back("{\"messages\":" + messages[4] + ",\"tools\":null,\"add_generation_prompt\":true,\"enable_thinking\":false" + tail);
  return out;
}

void require_same_as_jinja2(const std::string& template_name, int num_random, unsigned seed) {
  const std::string source = template_file(template_name);
  std::vector<RenderCase> cases;
  for (const auto& vars : hand_picked_variables()) cases.push_back({source, vars});
  std::mt19937 rng(seed);
  for (int i = 0; i < num_random; ++i) cases.push_back({source, random_variables(rng)});
  const auto reference = pagedserve::testing::render_with_jinja2(cases);
  REQUIRE(reference.size() == cases.size());
  int num_rendered = 0, num_raised = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(template_name << " case " << i << ": " << cases[i].variables_json);
    INFO("jinja2 error: " << reference[i].error);
    const auto ours = pagedserve::testing::render_with_engine(cases[i]);
    INFO("engine error: " << ours.error);
    REQUIRE(ours.text.has_value() == reference[i].text.has_value());
    if (ours.text) REQUIRE(*ours.text == *reference[i].text);
    (ours.text ? num_rendered : num_raised)++;
  }
  CHECK(num_rendered > num_random / 2);  // the comparison covers real output, not only errors
}

}  // namespace

TEST_CASE("a Llama 3.1 style template with tools renders as python3-jinja2 does", "[jinja][templates]") {
  require_same_as_jinja2("llama3_tools.jinja", 300, 1);
}

TEST_CASE("a ChatML/Qwen2.5 style template with tools renders as python3-jinja2 does", "[jinja][templates]") {
  require_same_as_jinja2("chatml_tools.jinja", 300, 2);
}

TEST_CASE("a Qwen3 style template with thinking renders as python3-jinja2 does", "[jinja][templates]") {
  require_same_as_jinja2("qwen3_thinking.jinja", 300, 3);
}

TEST_CASE("a Mistral [INST] style template renders or refuses as python3-jinja2 does", "[jinja][templates]") {
  require_same_as_jinja2("mistral_inst.jinja", 300, 4);
}
