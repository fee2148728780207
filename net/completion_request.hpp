#pragma once
// The body of POST /v1/completions (and the parameters a WebSocket
// `generate` message and POST /v1/chat/completions share with it), parsed
// and validated before anything reaches the engine. Every refusal is an
// ApiError naming the field, so a bad request is answered without
// disturbing running ones.

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/sampler.hpp"
#include "net/api_error.hpp"

namespace pagedserve::net {

// Bounds a request's input must stay within while it is read (the engine's
// engine::RequestLimits checks the rest at submission: context length, KV
// pool size).
struct InputLimits {
  int vocab_size = 0;  // prompt token ids must be below this (0: unchecked)
  int max_n = 16;      // n and best_of
  std::size_t max_prompts = 64;
  std::size_t max_stop = 16;  // stop strings and stop token ids
  std::size_t max_string_bytes = std::size_t{1} << 24;
  std::size_t max_messages = 4096;
  std::int64_t max_response_tokens = std::int64_t{1} << 20;  // see response_tokens() in generation.hpp
  // What a request's sampling starts from: the model's generation_config.json
  // values for what the request leaves out (as vLLM does).
  model::SamplingParams sampling_defaults;
};

// Everything but the prompt.
struct GenerationParams {
  model::SamplingParams sampling;  // max_tokens, temperature, stop, seed, logprobs, ...
  bool max_tokens_given = false;   // chat: without it the rest of the context is the limit
  bool want_logprobs = false;      // completions: logprobs present (even 0); chat: logprobs true
  int n = 1;
  int best_of = 0;                 // 0: n
  bool use_beam_search = false;
  float length_penalty = 1.0f;
  bool early_stopping = false;
  int priority = 0;                // lower is scheduled first (FCFS among equals)
  bool stream = false;
  bool include_usage = false;      // stream_options.include_usage
  bool return_tokens_as_token_ids = false;  // logprobs tokens as "token_id:123"
  std::string model;               // "" when not given
};

// A prompt as text (tokenized by the server) or as token ids.
struct PromptInput {
  bool is_text = true;
  std::string text;
  std::vector<std::int32_t> ids;
  bool add_special_tokens = true;  // BOS, where the model wants one; a chat template writes its own
};

struct CompletionRequest {
  std::vector<PromptInput> prompts;  // one choice set of n per prompt
  GenerationParams params;
  bool echo = false;
};

// Parses and validates a /v1/completions body. Throws ApiError.
CompletionRequest parse_completion_request(std::string_view body, const InputLimits& limits);

// The fields of a completion request found in `obj` (a parsed body or a
// WebSocket message): fills `out`, ignoring unknown keys except those the
// API documents but this server refuses (suffix, logit_bias). Throws ApiError.
void read_completion_fields(simdjson::dom::object obj, const InputLimits& limits, CompletionRequest& out);

// Sets one shared generation field; false when `key` is not one of them.
bool read_generation_field(std::string_view key, simdjson::dom::element value, const InputLimits& limits,
                           GenerationParams& out);

// Cross-field checks and the sampler's own ranges. Throws ApiError.
void validate_params(const GenerationParams& p, const InputLimits& limits);

}  // namespace pagedserve::net
