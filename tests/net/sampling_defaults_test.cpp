// A model's generation_config.json sampling values apply to every request
// (completions, chat, WebSocket) that leaves them out, and only then.

#include <catch2/catch.hpp>

#include "model/generation_config.hpp"
#include "net/chat_request.hpp"
#include "net/completion_request.hpp"
#include "net/ws_message.hpp"

using namespace pagedserve;
using namespace pagedserve::net;

namespace {

InputLimits qwen_like() {
  model::GenerationDefaults d;
  d.temperature = 0.7f;
  d.top_p = 0.8f;
  d.top_k = 20;
  d.repetition_penalty = 1.05f;
  InputLimits l;
  l.sampling_defaults = d.sampling();
  return l;
}

}  // namespace

TEST_CASE("the model's sampling defaults fill what a request leaves out", "[sampling_defaults]") {
  const auto limits = qwen_like();
  auto left_out = parse_completion_request(R"({"prompt":"x"})", limits).params.sampling;
  CHECK(left_out.temperature == 0.7f);
  CHECK(left_out.top_p == 0.8f);
  CHECK(left_out.top_k == 20);
  CHECK(left_out.repetition_penalty == 1.05f);
  auto given = parse_completion_request(R"({"prompt":"x","temperature":0,"top_k":-1,"top_p":1,"repetition_penalty":1})",
                                        limits).params.sampling;
  CHECK(given.temperature == 0.0f);
  CHECK(given.top_k == -1);
  CHECK(given.top_p == 1.0f);
  CHECK(given.repetition_penalty == 1.0f);
  auto null_given = parse_completion_request(R"({"prompt":"x","temperature":null})", limits).params.sampling;
  CHECK(null_given.temperature == 0.7f);  // null means "the default", the model's
  auto chat = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}],"top_p":0.5})", limits).params.sampling;
  CHECK(chat.top_p == 0.5f);
  CHECK(chat.temperature == 0.7f);
  auto ws = parse_ws_message(R"({"type":"generate","id":"r1","prompt":"x"})", limits);
  CHECK(std::get<WsGenerate>(ws).request.params.sampling.top_k == 20);
  // Without a generation_config.json: OpenAI's defaults.
  CHECK(parse_completion_request(R"({"prompt":"x"})", InputLimits{}).params.sampling.temperature == 1.0f);
}
