// Parsing and validating /v1/completions bodies: every field's good values,
// and every kind of bad input answered with a 400 that names the field.

#include "net/completion_request.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

InputLimits limits() {
  InputLimits l;
  l.vocab_size = 512;
  l.max_n = 8;
  l.max_prompts = 4;
  l.max_stop = 3;
  return l;
}

// The error a body gets (fails the test if it is accepted).
ApiError refusal(const std::string& body) {
  try {
    parse_completion_request(body, limits());
  } catch (const ApiError& e) {
    return e;
  }
  FAIL("accepted: " << body);
  return ApiError(0, "", "");
}

}  // namespace

TEST_CASE("a full completions request is read field by field", "[completion_request]") {
  auto r = parse_completion_request(R"({"prompt":"Once upon","max_tokens":32,"temperature":0.5,"top_p":0.9,
    "top_k":40,"min_p":0.05,"n":2,"best_of":2,"stop":["\n","The end"],"seed":-7,"presence_penalty":0.5,
    "frequency_penalty":-0.5,"repetition_penalty":1.2,"logprobs":3,"echo":false,"stream":true,"ignore_eos":true,
    "user":"u1","model":"stories260K","stop_token_ids":[2],"stream_options":{"include_usage":true},
    "length_penalty":0.8,"early_stopping":true,"priority":-5,"unknown_field":{"x":[1]}})",
                                    limits());
  REQUIRE(r.prompts.size() == 1);
  CHECK(r.prompts[0].is_text);
  CHECK(r.prompts[0].text == "Once upon");
  const auto& p = r.params;
  CHECK(p.sampling.max_tokens == 32);
  CHECK(p.sampling.temperature == 0.5f);
  CHECK(p.sampling.top_p == 0.9f);
  CHECK(p.sampling.top_k == 40);
  CHECK(p.sampling.min_p == 0.05f);
  CHECK(p.n == 2);
  CHECK(p.best_of == 2);
  CHECK(p.sampling.stop == std::vector<std::string>{"\n", "The end"});
  CHECK(*p.sampling.seed == static_cast<std::uint64_t>(-7));
  CHECK(p.sampling.presence_penalty == 0.5f);
  CHECK(p.sampling.frequency_penalty == -0.5f);
  CHECK(p.sampling.repetition_penalty == 1.2f);
  CHECK(p.sampling.logprobs == 3);
  CHECK(p.want_logprobs);
  CHECK(p.stream);
  CHECK(p.include_usage);
  CHECK(p.sampling.ignore_eos);
  CHECK(p.model == "stories260K");
  CHECK(p.sampling.stop_token_ids == std::vector<std::int32_t>{2});
  CHECK(p.length_penalty == 0.8f);
  CHECK(p.early_stopping);
  CHECK(p.priority == -5);
}

TEST_CASE("defaults follow the OpenAI API", "[completion_request]") {
  auto r = parse_completion_request(R"({"prompt":"x"})", limits());
  CHECK(r.params.sampling.max_tokens == 16);
  CHECK(r.params.sampling.temperature == 1.0f);
  CHECK(r.params.n == 1);
  CHECK_FALSE(r.params.want_logprobs);
  CHECK_FALSE(r.params.stream);
  CHECK_FALSE(r.echo);
  // null means "the default" for every field
  auto n = parse_completion_request(R"({"prompt":"x","max_tokens":null,"stop":null,"logprobs":null,"n":null})", limits());
  CHECK(n.params.sampling.max_tokens == 16);
  CHECK_FALSE(n.params.want_logprobs);
}

TEST_CASE("the four prompt forms", "[completion_request]") {
  auto a = parse_completion_request(R"({"prompt":["a","b",""]})", limits());
  REQUIRE(a.prompts.size() == 3);
  CHECK(a.prompts[2].text.empty());
  auto b = parse_completion_request(R"({"prompt":[1,2,3]})", limits());
  REQUIRE(b.prompts.size() == 1);
  CHECK_FALSE(b.prompts[0].is_text);
  CHECK(b.prompts[0].ids == std::vector<std::int32_t>{1, 2, 3});
  auto c = parse_completion_request(R"({"prompt":[[1,2],[3]]})", limits());
  REQUIRE(c.prompts.size() == 2);
  CHECK(c.prompts[1].ids == std::vector<std::int32_t>{3});
  auto d = parse_completion_request(R"({"prompt":["text",[5,6]]})", limits());
  CHECK(d.prompts[0].is_text);
  CHECK_FALSE(d.prompts[1].is_text);
  // 16.0 is an integer; 16.5 is not
  CHECK(parse_completion_request(R"({"prompt":"x","max_tokens":16.0})", limits()).params.sampling.max_tokens == 16);
}

TEST_CASE("malformed JSON and non-objects are 400 invalid_json", "[completion_request]") {
  for (const char* body : {"", "{", "{\"prompt\":}", "[1,2]", "\"prompt\"", "null", "{\"prompt\":\"x\",}", "{'prompt':'x'}",
                           "{\"prompt\":\"x\"} trailing"}) {
    const auto e = refusal(body);
    CHECK(e.status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK(e.code == "invalid_json");
  }
}

TEST_CASE("invalid UTF-8, deep nesting and unrepresentable numbers are 400s", "[completion_request]") {
  CHECK(refusal("{\"prompt\":\"\xFF\xFE\"}").code == "invalid_json");
  CHECK(refusal(std::string(5000, '[') + std::string(5000, ']')).code == "invalid_json");
  const std::string deep = "{\"prompt\":\"x\",\"user_data\":" + std::string(3000, '[') + std::string(3000, ']') + "}";
  CHECK(refusal(deep).status == 400);
  CHECK(refusal(R"({"prompt":"x","temperature":1e999})").status == 400);
  CHECK(refusal(R"({"prompt":"x","max_tokens":123456789012345678901234567890})").status == 400);
}

TEST_CASE("wrong types name the field", "[completion_request]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"prompt":5})", "prompt"},
      {R"({"prompt":{"text":"x"}})", "prompt"},
      {R"({"prompt":[1,"a"]})", "prompt"},
      {R"({"prompt":[[1],"a",[true]]})", "prompt"},
      {R"({"prompt":"x","max_tokens":"16"})", "max_tokens"},
      {R"({"prompt":"x","max_tokens":16.5})", "max_tokens"},
      {R"({"prompt":"x","temperature":"hot"})", "temperature"},
      {R"({"prompt":"x","top_p":[1]})", "top_p"},
      {R"({"prompt":"x","n":true})", "n"},
      {R"({"prompt":"x","stream":"yes"})", "stream"},
      {R"({"prompt":"x","echo":1})", "echo"},
      {R"({"prompt":"x","stop":5})", "stop"},
      {R"({"prompt":"x","stop":["a",5]})", "stop"},
      {R"({"prompt":"x","seed":"1"})", "seed"},
      {R"({"prompt":"x","logprobs":true})", "logprobs"},
      {R"({"prompt":"x","model":7})", "model"},
      {R"({"prompt":"x","stream_options":true})", "stream_options"},
      {R"({"prompt":"x","stop_token_ids":[1.5]})", "stop_token_ids"},
  };
  for (const auto& [body, param] : cases) {
    const auto e = refusal(body);
    INFO(body);
    CHECK(e.status == 400);
    CHECK(e.param == param);
    CHECK(std::string(e.what()).find(param) != std::string::npos);
  }
}

TEST_CASE("out-of-range values name the field", "[completion_request]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"prompt":"x","max_tokens":-1})", "max_tokens"},
      {R"({"prompt":"x","max_tokens":3000000000})", "max_tokens"},
      {R"({"prompt":"x","temperature":-0.1})", "temperature"},
      {R"({"prompt":"x","temperature":101})", "temperature"},
      {R"({"prompt":"x","top_p":0})", "top_p"},
      {R"({"prompt":"x","top_p":1.5})", "top_p"},
      {R"({"prompt":"x","top_k":-2})", "top_k"},
      {R"({"prompt":"x","min_p":2})", "min_p"},
      {R"({"prompt":"x","priority":2000000})", "priority"},
      {R"({"prompt":"x","priority":1.5})", "priority"},
      {R"({"prompt":"x","presence_penalty":3})", "presence_penalty"},
      {R"({"prompt":"x","frequency_penalty":-2.5})", "frequency_penalty"},
      {R"({"prompt":"x","repetition_penalty":0})", "repetition_penalty"},
      {R"({"prompt":"x","n":0})", "n"},
      {R"({"prompt":"x","n":9})", "n"},
      {R"({"prompt":"x","best_of":9})", "best_of"},
      {R"({"prompt":"x","n":3,"best_of":2})", "best_of"},
      {R"({"prompt":"x","logprobs":21})", "logprobs"},
      {R"({"prompt":"x","logprobs":-1})", "logprobs"},
      {R"({"prompt":"x","stop":["a","b","c","d"]})", "stop"},
      {R"({"prompt":"x","stop":""})", "stop"},
      {R"({"prompt":[]})", "prompt"},
      {R"({"prompt":[[]]})", "prompt"},
      {R"({"prompt":[-1]})", "prompt"},
      {R"({"prompt":[512]})", "prompt"},
      {R"({"prompt":["a","b","c","d","e"]})", "prompt"},
  };
  for (const auto& [body, param] : cases) {
    const auto e = refusal(body);
    INFO(body);
    CHECK(e.status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK(e.param == param);
  }
}

TEST_CASE("missing prompt, unsupported fields and conflicting options are refused", "[completion_request]") {
  CHECK(refusal(R"({"max_tokens":5})").param == "prompt");
  CHECK(refusal(R"({"prompt":"x","suffix":"tail"})").param == "suffix");
  CHECK(refusal(R"({"prompt":"x","logit_bias":{"5":10}})").param == "logit_bias");
  CHECK(refusal(R"({"prompt":"x","echo":true,"logprobs":1})").param == "echo");
  CHECK(refusal(R"({"prompt":"x","stream":true,"n":1,"best_of":2})").param == "best_of");
  CHECK(refusal(R"({"prompt":"x","use_beam_search":true,"n":2,"stop":"a"})").param == "stop");
  // what they refuse is only a request for something: empty ones pass
  CHECK_NOTHROW(parse_completion_request(R"({"prompt":"x","suffix":"","logit_bias":{}})", limits()));
}

TEST_CASE("engine refusals map to statuses", "[completion_request]") {
  using pagedserve::engine::SubmitError;
  CHECK(submit_error({SubmitError::too_long, "too long", "prompt"}).code == "context_length_exceeded");
  CHECK(submit_error({SubmitError::too_long, "too long", "prompt"}).status == 400);
  CHECK(submit_error({SubmitError::overloaded, "busy", ""}).status == 503);
  CHECK(submit_error({SubmitError::shutting_down, "bye", ""}).status == 503);
  CHECK(submit_error({SubmitError::invalid_request, "bad n", "n"}).param == "n");
  const auto json = submit_error({SubmitError::invalid_request, "bad \"n\"", "n"}).to_json();
  CHECK(json == R"({"error":{"message":"bad \"n\"","type":"invalid_request_error","param":"n","code":null}})");
}
