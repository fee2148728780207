// The WebSocket protocol's client messages.

#include "net/ws_message.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

WsParseError refusal(const std::string& text) {
  try {
    parse_ws_message(text, InputLimits{});
  } catch (const WsParseError& e) {
    return e;
  }
  FAIL("accepted: " << text);
  return WsParseError{"", ApiError(0, "", "")};
}

}  // namespace

TEST_CASE("generate carries any completions parameter, cancel names an id", "[ws_message]") {
  auto m = parse_ws_message(R"({"type":"generate","id":"r1","prompt":"Hi","max_tokens":64,"temperature":0,"n":2})",
                            InputLimits{});
  auto& g = std::get<WsGenerate>(m);
  CHECK(g.id == "r1");
  CHECK(g.request.prompts.at(0).text == "Hi");
  CHECK(g.request.params.sampling.max_tokens == 64);
  CHECK(g.request.params.n == 2);
  auto c = parse_ws_message(R"({"id":"r1","type":"cancel"})", InputLimits{});
  CHECK(std::get<WsCancel>(c).id == "r1");
}

TEST_CASE("bad messages keep the id when it could be read", "[ws_message]") {
  CHECK(refusal("not json").id.empty());
  CHECK(refusal("[1,2]").id.empty());
  CHECK(refusal(R"({"id":"a"})").error.param == "type");
  CHECK(refusal(R"({"type":"generate","prompt":"x"})").error.param == "id");
  CHECK(refusal(R"({"type":"generate","id":"","prompt":"x"})").error.param == "id");
  CHECK(refusal(R"({"type":"generate","id":7,"prompt":"x"})").error.param == "id");
  CHECK(refusal(R"({"type":"cancel"})").error.param == "id");
  const auto unknown = refusal(R"({"type":"explode","id":"q"})");
  CHECK(unknown.id == "q");
  CHECK(unknown.error.param == "type");
  const auto bad_param = refusal(R"({"type":"generate","id":"r9","prompt":"x","top_p":7})");
  CHECK(bad_param.id == "r9");
  CHECK(bad_param.error.param == "top_p");
  CHECK(refusal(R"({"type":"generate","id":"r9"})").error.param == "prompt");
  CHECK(refusal(R"({"type":"generate","id":")" + std::string(300, 'x') + R"(","prompt":"x"})").error.param == "id");
}
