// The model's chat template as the server compiles and renders it: which
// template a request gets, what it sees, and how refusals come back.
#include "net/chat_template.hpp"

#include <catch2/catch.hpp>

#include "net/json_read.hpp"

using namespace pagedserve;
using namespace pagedserve::net;

namespace {

model::ChatTemplateSources sources(std::vector<std::pair<std::string, std::string>> named) {
  return {std::move(named), std::string("<s>"), std::string("</s>")};
}

ChatRequest chat(const std::string& body) { return parse_chat_request(body, InputLimits{}); }

std::string render(const ChatTemplate& t, const std::string& body) {
  const ChatRequest r = chat(body);
  return t.render(r.messages, r.options);
}

}  // namespace

TEST_CASE("a model without a chat template keeps the fallback format; tools need a template", "[chat_template]") {
  CHECK(ChatTemplate::compile(model::ChatTemplateSources{}, std::nullopt) == nullptr);
  const ChatRequest r = chat(R"({"messages":[{"role":"user","content":"Hi"}]})");
  const ChatPrompt p = render_chat(nullptr, r.messages, r.options);
  CHECK(p.text == "<|user|>\nHi\n<|assistant|>\n");
  CHECK(p.add_special_tokens);
  const ChatRequest with_tools = chat(R"({"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]})");
  REQUIRE_THROWS_AS(render_chat(nullptr, with_tools.messages, with_tools.options), ApiError);
  CHECK_THROWS_WITH(render_chat(nullptr, with_tools.messages, with_tools.options), Catch::Contains("no chat template"));
}

TEST_CASE("the template sees messages as sent, tools, bos/eos, add_generation_prompt and chat_template_kwargs",
          "[chat_template]") {
  auto t = ChatTemplate::compile(
      sources({{"default", "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}{% if m.tool_calls %}"
                           "{{ m.tool_calls[0].function.name }}{% endif %}]{% endfor %}{{ tools|length if tools is not none }}"
                           "{{ add_generation_prompt }}{{ enable_thinking }}{{ eos_token }}"}}),
      std::nullopt);
  REQUIRE(t);
  CHECK(render(*t, R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},)"
                   R"({"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}],)"
                   R"("tools":[{"type":"function","function":{"name":"f"}}],"add_generation_prompt":false,"chat_template_kwargs":{"enable_thinking":false}})") ==
        "<s>[user:ab][assistant:Nonef]1FalseFalse</s>");
  const ChatPrompt p = render_chat(t.get(), chat(R"({"messages":[{"role":"user","content":"x"}]})").messages, ChatOptions{});
  CHECK(p.text == "<s>[user:x]True</s>");
  CHECK_FALSE(p.add_special_tokens);  // the template wrote BOS itself
}

TEST_CASE("a named list: default, and tool_use when the request has tools", "[chat_template]") {
  auto t = ChatTemplate::compile(sources({{"default", "D"}, {"tool_use", "T{{ tools[0].type }}"}}), std::nullopt);
  REQUIRE(t);
  CHECK(render(*t, R"({"messages":[{"role":"user","content":"x"}]})") == "D");
  CHECK(render(*t, R"({"messages":[{"role":"user","content":"x"}],"tools":[]})") == "D");
  CHECK(render(*t, R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]})") == "Tfunction");
  CHECK_THROWS_WITH(ChatTemplate::compile(sources({{"tool_use", "T"}}), std::nullopt), Catch::Contains("none named \"default\""));
}

TEST_CASE("the text of --chat-template wins over the model's", "[chat_template]") {
  auto t = ChatTemplate::compile(sources({{"default", "model's"}}), std::string("override {{ bos_token }}"));
  CHECK(render(*t, R"({"messages":[{"role":"user","content":"x"}]})") == "override <s>");
}

TEST_CASE("a template this engine cannot render is refused at load, naming it, the line and the construct",
          "[chat_template]") {
  CHECK_THROWS_AS(ChatTemplate::compile(sources({{"default", "ok\n{{ x|wordwrap }}"}}), std::nullopt), jinja::TemplateError);
  CHECK_THROWS_WITH(ChatTemplate::compile(sources({{"default", "ok"}, {"tool_use", "ok\n\n{% include 'x' %}"}}), std::nullopt),
                    "chat template \"tool_use\": template line 3: the {% include %} tag is not supported");
}

TEST_CASE("raise_exception in the template is a 400 carrying its message", "[chat_template]") {
  auto t = ChatTemplate::compile(
      sources({{"default", "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
                           "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}{% endfor %}"}}),
      std::nullopt);
  try {
    render(*t, R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
    FAIL("rendered");
  } catch (const ApiError& e) {
    CHECK(e.status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK_THAT(std::string(e.what()), Catch::Contains("Conversation roles must alternate user/assistant"));
  }
}
