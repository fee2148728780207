// The OpenAI response shapes, read back with simdjson.

#include "net/completion_format.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

const ResponseMeta kMeta{"cmpl-1", 1700000000, "stories260K"};

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& json) {
  simdjson::dom::element e;
  REQUIRE(p.parse(json).get(e) == simdjson::SUCCESS);
  return e;
}

std::string_view text_of(simdjson::dom::element e) { return e.get_string().value(); }

}  // namespace

TEST_CASE("a text_completion body lists choices, logprobs and usage", "[completion_format]") {
  Choice a;
  a.text = "Hello \"world\"";
  a.finish_reason = "length";
  a.logprobs = {{"Hello", -0.5f, {{"Hello", -0.5f}, {"Hi", -1.5f}}, 0}, {" \"world\"", -0.25f, {}, 5}};
  Choice b;
  b.text = "x";
  b.finish_reason = "stop";
  simdjson::dom::parser p;
  auto doc = parse(p, completion_body(kMeta, {a, b}, true, Usage{5, 3, 2}));
  CHECK(text_of(doc["object"]) == "text_completion");
  CHECK(text_of(doc["id"]) == "cmpl-1");
  CHECK(doc["created"].get_int64().value() == 1700000000);
  auto choices = doc["choices"].get_array();
  REQUIRE(choices.size() == 2);
  CHECK(text_of(choices.at(0)["text"]) == a.text);
  CHECK(choices.at(1)["index"].get_int64().value() == 1);
  CHECK(text_of(choices.at(1)["finish_reason"]) == "stop");
  auto lp = choices.at(0)["logprobs"];
  CHECK(lp["tokens"].get_array().size() == 2);
  CHECK(lp["token_logprobs"].at(1).get_double().value() == Approx(-0.25));
  CHECK(lp["top_logprobs"].at(0)["Hi"].get_double().value() == Approx(-1.5));
  CHECK(lp["text_offset"].at(1).get_int64().value() == 5);
  CHECK(doc["usage"]["total_tokens"].get_int64().value() == 8);
  CHECK(doc["usage"]["prompt_tokens_details"]["cached_tokens"].get_int64().value() == 2);
  auto plain = parse(p, completion_body(kMeta, {b}, false, Usage{1, 1}));
  CHECK(plain["choices"].at(0)["logprobs"].is_null());
}

TEST_CASE("stream chunks: text deltas, then the finish reason", "[completion_format]") {
  simdjson::dom::parser p;
  auto chunk = parse(p, completion_chunk(kMeta, 2, "tok", nullptr, ""));
  CHECK(text_of(chunk["choices"].at(0)["text"]) == "tok");
  CHECK(chunk["choices"].at(0)["index"].get_int64().value() == 2);
  CHECK(chunk["choices"].at(0)["finish_reason"].is_null());
  auto last = parse(p, completion_chunk(kMeta, 0, "", nullptr, "stop"));
  CHECK(text_of(last["choices"].at(0)["finish_reason"]) == "stop");
  auto usage = parse(p, usage_chunk(kMeta, "text_completion", Usage{2, 3}));
  CHECK(usage["choices"].get_array().size() == 0);
  CHECK(usage["usage"]["completion_tokens"].get_int64().value() == 3);
}

TEST_CASE("chat bodies and chunks follow chat.completion(.chunk)", "[completion_format]") {
  Choice c;
  c.text = "Hi there";
  c.finish_reason = "length";
  c.logprobs = {{"Hi", -0.1f, {{"Hi", -0.1f}}, 0}};
  simdjson::dom::parser p;
  auto body = parse(p, chat_body(kMeta, {c}, true, Usage{4, 2}));
  CHECK(text_of(body["object"]) == "chat.completion");
  CHECK(text_of(body["choices"].at(0)["message"]["role"]) == "assistant");
  CHECK(text_of(body["choices"].at(0)["message"]["content"]) == "Hi there");
  auto content = body["choices"].at(0)["logprobs"]["content"];
  CHECK(text_of(content.at(0)["token"]) == "Hi");
  CHECK(content.at(0)["bytes"].get_array().size() == 2);
  CHECK(content.at(0)["top_logprobs"].at(0)["logprob"].get_double().value() == Approx(-0.1));
  auto first = parse(p, chat_chunk(kMeta, 0, "assistant", "Hi", nullptr, ""));
  CHECK(text_of(first["object"]) == "chat.completion.chunk");
  CHECK(text_of(first["choices"].at(0)["delta"]["role"]) == "assistant");
  CHECK(text_of(first["choices"].at(0)["delta"]["content"]) == "Hi");
  auto end = parse(p, chat_chunk(kMeta, 0, "", "", nullptr, "stop"));
  CHECK(end["choices"].at(0)["delta"].get_object().size() == 0);
  CHECK(text_of(end["choices"].at(0)["finish_reason"]) == "stop");
}
