#include "net/completion_request.hpp"

#include <climits>

#include "net/json_read.hpp"
#include "net/structured_output.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

constexpr std::int64_t kMaxInt = INT_MAX;
// Ranges with an open end are the sampler's to check (SamplingParams::validate).
constexpr double kAnyNumber = 3.0e38;

float read_float(element v, const char* name, double min, double max) {
  return static_cast<float>(read_number(v, name, min, max));
}

// "stop": a string or a list of strings.
std::vector<std::string> read_stop(element v, const InputLimits& limits) {
  std::vector<std::string> stop;
  if (v.is_string()) {
    stop.push_back(read_string(v, "stop", limits.max_string_bytes));
  } else {
    for (element s : read_array(v, "stop")) stop.push_back(read_string(s, "stop", limits.max_string_bytes));
  }
  if (stop.size() > limits.max_stop)
    throw invalid_request("stop", "stop holds " + std::to_string(stop.size()) + " strings, more than the limit of " +
                                      std::to_string(limits.max_stop));
  for (const auto& s : stop)
    if (s.empty()) throw invalid_request("stop", "stop strings must not be empty");
  return stop;
}

std::vector<std::int32_t> read_token_ids(simdjson::dom::array a, const char* name, std::size_t max_count) {
  std::vector<std::int32_t> ids;
  for (element t : a) {
    if (ids.size() >= max_count) throw invalid_request(name, std::string(name) + " is too long");
    ids.push_back(static_cast<std::int32_t>(read_int(t, name, 0, kMaxInt)));
  }
  return ids;
}

void read_stream_options(element v, GenerationParams& out) {
  for (auto [key, value] : read_object(v, "stream_options")) {
    if (key == "include_usage" && !value.is_null()) out.include_usage = read_bool(value, "stream_options.include_usage");
  }
}

// Fields the OpenAI API has that this server does not implement: refused
// when they ask for something, so a client never silently gets less.
void refuse_unsupported(std::string_view key, element v) {
  if (v.is_null()) return;
  if (key == "suffix") {
    std::string_view s;
    if (!v.get(s) && s.empty()) return;
    throw invalid_request("suffix", "suffix is not supported");
  }
  simdjson::dom::object o;
  if (!v.get(o) && o.size() == 0) return;
  throw invalid_request(std::string(key), std::string(key) + " is not supported");
}

// One prompt entry of a list: a string or a list of token ids.
PromptInput read_prompt_item(element v, const InputLimits& limits) {
  PromptInput p;
  if (v.is_string()) {
    p.text = read_string(v, "prompt", limits.max_string_bytes);
    return p;
  }
  simdjson::dom::array a;
  if (v.get(a)) throw invalid_request("prompt", "prompt must be a string, a list of strings, or a list of token id lists");
  p.is_text = false;
  p.ids = read_token_ids(a, "prompt", limits.max_string_bytes);
  return p;
}

std::vector<PromptInput> read_prompts(element v, const InputLimits& limits) {
  std::vector<PromptInput> prompts;
  if (v.is_string()) {
    prompts.push_back(read_prompt_item(v, limits));
    return prompts;
  }
  simdjson::dom::array a;
  if (v.get(a)) throw invalid_request("prompt", "prompt must be a string, a list of strings, a list of token ids, or a list of token id lists");
  if (a.size() == 0) throw invalid_request("prompt", "prompt must not be an empty list");
  // A list of integers is one tokenized prompt.
  if ((*a.begin()).is_number()) {
    PromptInput p;
    p.is_text = false;
    p.ids = read_token_ids(a, "prompt", limits.max_string_bytes);
    prompts.push_back(std::move(p));
    return prompts;
  }
  for (element item : a) {
    if (prompts.size() >= limits.max_prompts)
      throw invalid_request("prompt", "prompt holds more than " + std::to_string(limits.max_prompts) + " prompts");
    prompts.push_back(read_prompt_item(item, limits));
  }
  return prompts;
}

void check_prompt_ids(const std::vector<PromptInput>& prompts, const InputLimits& limits) {
  for (const auto& p : prompts) {
    if (p.is_text) continue;
    if (p.ids.empty()) throw invalid_request("prompt", "a token id prompt must not be empty");
    if (limits.vocab_size <= 0) continue;
    for (auto id : p.ids)
      if (id >= limits.vocab_size)
        throw invalid_request("prompt", "prompt token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                            std::to_string(limits.vocab_size - 1) + ")");
  }
}

}  // namespace

bool read_generation_field(std::string_view key, element v, const InputLimits& limits, GenerationParams& out) {
  if (read_structured_output_field(key, v, out)) return true;
  auto& s = out.sampling;
  if (key == "max_tokens" || key == "max_completion_tokens") {
    s.max_tokens = static_cast<int>(read_int(v, std::string(key), 0, kMaxInt));
    out.max_tokens_given = true;
  } else if (key == "temperature") {
    s.temperature = read_float(v, "temperature", 0, 100);
  } else if (key == "top_p") {
    s.top_p = read_float(v, "top_p", -kAnyNumber, kAnyNumber);  // (0, 1]: the sampler says so
  } else if (key == "top_k") {
    s.top_k = static_cast<int>(read_int(v, "top_k", -1, kMaxInt));
  } else if (key == "min_p") {
    s.min_p = read_float(v, "min_p", 0, 1);
  } else if (key == "presence_penalty") {
    s.presence_penalty = read_float(v, "presence_penalty", -2, 2);
  } else if (key == "frequency_penalty") {
    s.frequency_penalty = read_float(v, "frequency_penalty", -2, 2);
  } else if (key == "repetition_penalty") {
    s.repetition_penalty = read_float(v, "repetition_penalty", -kAnyNumber, kAnyNumber);  // (0, 10]
  } else if (key == "seed") {
    s.seed = static_cast<std::uint64_t>(read_int(v, "seed", INT64_MIN, INT64_MAX));
  } else if (key == "stop") {
    s.stop = read_stop(v, limits);
  } else if (key == "stop_token_ids") {
    s.stop_token_ids = read_token_ids(read_array(v, "stop_token_ids"), "stop_token_ids", limits.max_stop);
  } else if (key == "ignore_eos") {
    s.ignore_eos = read_bool(v, "ignore_eos");
  } else if (key == "n") {
    out.n = static_cast<int>(read_int(v, "n", 1, limits.max_n));
  } else if (key == "best_of") {
    out.best_of = static_cast<int>(read_int(v, "best_of", 1, limits.max_n));
  } else if (key == "use_beam_search") {
    out.use_beam_search = read_bool(v, "use_beam_search");
  } else if (key == "length_penalty") {
    out.length_penalty = read_float(v, "length_penalty", -100, 100);
  } else if (key == "early_stopping") {
    out.early_stopping = read_bool(v, "early_stopping");
  } else if (key == "priority") {
    out.priority = static_cast<int>(read_int(v, "priority", -1000000, 1000000));
  } else if (key == "stream") {
    out.stream = read_bool(v, "stream");
  } else if (key == "stream_options") {
    read_stream_options(v, out);
  } else if (key == "return_tokens_as_token_ids") {
    out.return_tokens_as_token_ids = read_bool(v, "return_tokens_as_token_ids");
  } else if (key == "model") {
    out.model = read_string(v, "model", 4096);
  } else if (key == "user") {
    read_string(v, "user", limits.max_string_bytes);  // accepted and ignored
  } else if (key == "suffix" || key == "logit_bias") {
    refuse_unsupported(key, v);
  } else {
    return false;
  }
  return true;
}

void read_completion_fields(simdjson::dom::object obj, const InputLimits& limits, CompletionRequest& out) {
  out.params.sampling = limits.sampling_defaults;
  bool has_prompt = false;
  for (auto [key, value] : obj) {
    if (value.is_null()) continue;  // null: the default
    if (key == "prompt") {
      out.prompts = read_prompts(value, limits);
      has_prompt = true;
    } else if (key == "echo") {
      out.echo = read_bool(value, "echo");
    } else if (key == "logprobs") {
      out.params.sampling.logprobs = static_cast<int>(read_int(value, "logprobs", 0, 20));
      out.params.want_logprobs = true;
    } else {
      read_generation_field(key, value, limits, out.params);
    }
  }
  if (!has_prompt) throw invalid_request("prompt", "prompt is required");
  check_prompt_ids(out.prompts, limits);
  validate_params(out.params, limits);
  if (out.echo && out.params.want_logprobs)
    throw invalid_request("echo", "echo together with logprobs is not supported (prompt logprobs are not computed)");
}

void validate_params(const GenerationParams& p, const InputLimits& limits) {
  try {
    p.sampling.validate();
  } catch (const model::InvalidParam& e) {
    throw invalid_request(e.param, e.what());
  }
  if (p.n < 1 || p.n > limits.max_n) throw invalid_request("n", "n must be in [1, " + std::to_string(limits.max_n) + "]");
  if (p.best_of != 0 && p.best_of < p.n)
    throw invalid_request("best_of", "best_of (" + std::to_string(p.best_of) + ") must be at least n (" +
                                         std::to_string(p.n) + ")");
  if (p.stream && p.best_of > p.n && !p.use_beam_search)
    throw invalid_request("best_of", "best_of must equal n when streaming (the best samples are known only at the end)");
  if (p.use_beam_search && !p.sampling.stop.empty())
    throw invalid_request("stop", "stop strings are not supported with beam search");
}

CompletionRequest parse_completion_request(std::string_view body, const InputLimits& limits) {
  CompletionRequest out;
  read_completion_fields(parse_object(thread_parser(), body), limits, out);
  return out;
}

}  // namespace pagedserve::net
