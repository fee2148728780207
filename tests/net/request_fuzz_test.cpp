// 100,000+ randomized inputs through the very functions the server uses to
// parse and validate requests (completions, chat, WebSocket messages,
// responses, tokenize and detokenize):
// mutated valid requests, random JSON with the right keys and wrong values,
// random bytes, deep nesting, huge numbers, invalid UTF-8. Each must be
// accepted (and then satisfy every documented bound) or refused with an
// ApiError; nothing else may escape, and no input may take long.

#include <catch2/catch.hpp>
#include <chrono>
#include <random>

#include "net/chat_request.hpp"
#include "net/completion_request.hpp"
#include "net/responses_request.hpp"
#include "net/tokenize.hpp"
#include "net/ws_message.hpp"

using namespace pagedserve::net;

namespace {

const std::vector<std::string> kCorpus = {
    R"({"prompt":"Once upon a time","max_tokens":16,"temperature":0})",
    R"({"prompt":["a","b"],"n":2,"best_of":3,"logprobs":2,"stop":["\n","x"],"seed":42})",
    R"({"prompt":[1,2,3,4],"stream":true,"stream_options":{"include_usage":true},"top_k":5,"top_p":0.9})",
    R"({"prompt":[[1,2],[3,4,5]],"echo":true,"presence_penalty":1.5,"frequency_penalty":-1,"min_p":0.1})",
    R"({"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":null}],"logprobs":true,"top_logprobs":3})",
    R"({"messages":[{"role":"system","content":[{"type":"text","text":"Be nice"}]}],"max_completion_tokens":5})",
    R"({"type":"generate","id":"r1","prompt":"Hello","max_tokens":64,"temperature":0})",
    R"({"type":"cancel","id":"r1"})",
    R"({"input":"Hi","instructions":"Be brief","max_output_tokens":8,"store":false,"previous_response_id":"resp_1"})",
    R"({"input":[{"role":"user","content":[{"type":"input_text","text":"x"}]},{"type":"message","role":"assistant","content":"y"}]})",
    R"({"prompt":"Once upon a time","add_special_tokens":false,"return_token_strs":true})",
    R"({"tokens":[1,2,3,511]})",
};

const std::vector<std::string> kKeys = {
    "prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "best_of", "use_beam_search",
    "length_penalty", "early_stopping", "stop", "seed", "presence_penalty", "frequency_penalty", "repetition_penalty",
    "logprobs", "echo", "stream", "ignore_eos", "user", "model", "stop_token_ids", "stream_options", "suffix",
    "logit_bias", "messages", "top_logprobs", "max_completion_tokens", "type", "id", "tools", "response_format",
    "input", "instructions", "max_output_tokens", "previous_response_id", "store", "text", "add_special_tokens",
    "return_token_strs", "tokens"};

class Fuzzer {
 public:
  explicit Fuzzer(std::uint64_t seed) : rng_(seed) {}

  std::string next() {
    switch (pick(6)) {
      case 0: return mutate(kCorpus[pick(kCorpus.size())]);
      case 1: return random_request();
      case 2: return random_bytes();
      case 3: return nesting();
      case 4: return mutate(mutate(random_request()));
      default: return splice();
    }
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  std::string random_value(int depth) {
    switch (pick(depth > 3 ? 9 : 12)) {
      case 0: return "null";
      case 1: return pick(2) ? "true" : "false";
      case 2: return std::to_string(static_cast<std::int64_t>(rng_()) >> pick(64));
      case 3: return std::to_string(std::uniform_real_distribution<double>(-5, 5)(rng_));
      case 4: return pick(2) ? "1e308" : "-1e-320";
      case 5: return "123456789012345678901234567890";
      case 6: return "\"" + std::string(pick(8), 'a' + static_cast<char>(pick(26))) + "\"";
      case 7: return "\"\xff\xfe\xc3\"";
      case 8: return std::to_string(pick(600));
      case 9: {
        std::string s = "[";
        for (std::size_t i = 0, n = pick(5); i < n; ++i) s += (i ? "," : "") + random_value(depth + 1);
        return s + "]";
      }
      case 10: {
        std::string s = "{";
        for (std::size_t i = 0, n = pick(4); i < n; ++i)
          s += (i ? ",\"" : "\"") + kKeys[pick(kKeys.size())] + "\":" + random_value(depth + 1);
        return s + "}";
      }
      default: return R"([{"role":"user","content":"x"}])";
    }
  }

  std::string random_request() {
    std::string s = "{";
    for (std::size_t i = 0, n = 1 + pick(8); i < n; ++i)
      s += (i ? ",\"" : "\"") + kKeys[pick(kKeys.size())] + "\":" + random_value(0);
    return s + "}";
  }

  std::string mutate(std::string s) {
    for (std::size_t k = 0, n = 1 + pick(4); k < n && !s.empty(); ++k) {
      const std::size_t at = pick(s.size());
      switch (pick(6)) {
        case 0: s[at] = static_cast<char>(rng_()); break;
        case 1: s.insert(at, 1, "{}[]\",:0-e."[pick(12)]); break;
        case 2: s.erase(at, 1 + pick(8)); break;
        case 3: s.insert(at, s.substr(pick(s.size()), pick(16))); break;
        case 4: s.insert(at, "\xf0\x28\x8c\x28"); break;  // invalid UTF-8
        default: s.insert(at, random_value(2)); break;
      }
    }
    return s;
  }

  std::string random_bytes() {
    std::string s(pick(200), '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }

  std::string nesting() {
    const std::size_t depth = 1 + pick(3000);
    const bool object = pick(2);
    std::string open = object ? "{\"prompt\":" : "[", close = object ? "}" : "]";
    std::string s = "{\"prompt\":\"x\",\"user_data\":";
    for (std::size_t i = 0; i < depth; ++i) s += open;
    s += "1";
    for (std::size_t i = 0; i < depth; ++i) s += close;
    return s + "}";
  }

  std::string splice() {
    const auto& a = kCorpus[pick(kCorpus.size())];
    const auto& b = kCorpus[pick(kCorpus.size())];
    return a.substr(0, pick(a.size())) + b.substr(pick(b.size()));
  }

  std::mt19937_64 rng_;
};

// What an accepted request must satisfy.
void check_accepted(const GenerationParams& p, const InputLimits& limits) {
  CHECK_NOTHROW(p.sampling.validate());
  CHECK(p.n >= 1);
  CHECK(p.n <= limits.max_n);
  CHECK((p.best_of == 0 || (p.best_of >= p.n && p.best_of <= limits.max_n)));
  CHECK(p.sampling.stop.size() <= limits.max_stop);
}

void check_prompts(const std::vector<PromptInput>& prompts, const InputLimits& limits) {
  CHECK(!prompts.empty());
  CHECK(prompts.size() <= limits.max_prompts);
  for (const auto& pr : prompts)
    for (auto id : pr.ids) CHECK((id >= 0 && id < limits.vocab_size));
}

}  // namespace

TEST_CASE("100,000 random and mutated requests: accepted within bounds or refused with an ApiError", "[fuzz]") {
  InputLimits limits;
  limits.vocab_size = 512;
  Fuzzer fuzzer(20261122);
  int num_accepted = 0, num_refused = 0;
  double slowest_ms = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) {
    const std::string input = fuzzer.next();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      switch (i % 6) {
        case 0: {
          auto r = parse_completion_request(input, limits);
          check_accepted(r.params, limits);
          check_prompts(r.prompts, limits);
          break;
        }
        case 1: {
          auto r = parse_chat_request(input, limits);
          check_accepted(r.params, limits);
          CHECK(!r.messages.empty());
          break;
        }
        case 3: {
          auto r = parse_responses_request(input, limits);
          check_accepted(r.params, limits);
          CHECK(r.params.n == 1);
          CHECK(!r.input.empty());
          break;
        }
        case 4: {
          auto r = parse_tokenize_request(input, limits, nullptr);
          CHECK(r.text.size() <= limits.max_string_bytes);
          break;
        }
        case 5: {
          auto r = parse_detokenize_request(input, limits);
          for (auto id : r.tokens) CHECK((id >= 0 && id < limits.vocab_size));
          break;
        }
        default: {
          auto m = parse_ws_message(input, limits);
          if (auto* g = std::get_if<WsGenerate>(&m)) {
            CHECK(!g->id.empty());
            check_accepted(g->request.params, limits);
          }
        }
      }
      ++num_accepted;
    } catch (const ApiError& e) {
      CHECK(e.status >= 400);
      CHECK(!std::string(e.what()).empty());
      ++num_refused;
    } catch (const WsParseError& e) {
      CHECK(e.error.status >= 400);
      ++num_refused;
    }
    // Any other exception escapes and fails the test case.
    slowest_ms = std::max(slowest_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("fuzz: " << num_accepted << " accepted, " << num_refused << " refused in " << seconds << " s; slowest input "
                << slowest_ms << " ms");
  CHECK(num_accepted + num_refused == 100000);
  CHECK(num_accepted > 100);  // the generator reaches the accepting paths too
  CHECK(slowest_ms < 250);
  CHECK(seconds < 20);
}
