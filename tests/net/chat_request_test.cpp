// /v1/chat/completions bodies and the default chat template.

#include "net/chat_request.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

ApiError refusal(const std::string& body) {
  try {
    parse_chat_request(body, InputLimits{});
  } catch (const ApiError& e) {
    return e;
  }
  FAIL("accepted: " << body);
  return ApiError(0, "", "");
}

}  // namespace

TEST_CASE("messages with string and text-part content are read", "[chat_request]") {
  auto r = parse_chat_request(R"({"model":"m","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"Hello, "},{"type":"text","text":"there"}]},
      {"role":"assistant","content":null},
      {"role":"user","content":"Go on"}],
      "max_completion_tokens":12,"logprobs":true,"top_logprobs":2,"temperature":0})",
                              InputLimits{});
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[1].content == "Hello, there");
  CHECK(r.messages[2].content.empty());
  CHECK(r.params.sampling.max_tokens == 12);
  CHECK(r.params.max_tokens_given);
  CHECK(r.params.want_logprobs);
  CHECK(r.params.sampling.logprobs == 2);
  CHECK_FALSE(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}]})", InputLimits{}).params.max_tokens_given);
}

TEST_CASE("the default template marks each role and leaves the assistant to continue", "[chat_request]") {
  const std::string prompt = render_chat_prompt({{"system", "Be kind."}, {"user", "Tell a story."}});
  CHECK(prompt == "<|system|>\nBe kind.\n<|user|>\nTell a story.\n<|assistant|>\n");
}

TEST_CASE("bad chat requests name the field", "[chat_request]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "messages"},
      {R"({"messages":[]})", "messages"},
      {R"({"messages":"hi"})", "messages"},
      {R"({"messages":["hi"]})", "messages"},
      {R"({"messages":[{"content":"hi"}]})", "messages.role"},
      {R"({"messages":[{"role":"wizard","content":"hi"}]})", "messages.role"},
      {R"({"messages":[{"role":"user"}]})", "messages.content"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages.content"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})", "messages.content"},
      {R"({"messages":[{"role":"user","content":"x"}],"logprobs":"yes"})", "logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":3})", "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21})", "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":["get_weather"]})", "tools[0]"},
      {R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":true})", "chat_template_kwargs"},
      {R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"minimum":1}}}})",
       "response_format.json_schema.schema"},
      {R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}})", "response_format.type"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":-1})", "temperature"},
  };
  for (const auto& [body, param] : cases) {
    INFO(body);
    const auto e = refusal(body);
    CHECK(e.status == 400);
    CHECK(e.param == param);
  }
  CHECK_NOTHROW(parse_chat_request(
      R"({"messages":[{"role":"user","content":"x"}],"tools":[],"tool_choice":"none","response_format":{"type":"text"}})",
      InputLimits{}));
  const auto json = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})",
                                       InputLimits{});
  CHECK(json.params.sampling.constraint.kind == "json_object");
}
