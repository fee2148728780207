#pragma once
// What a client asks for and what it gets back, as plain data: one request
// and the stream of events it produces. The engine facade
// (actors/engine.hpp) re-exports these types under pagedserve::actors.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "kernels/sampling.hpp"
#include "model/sampler.hpp"

namespace pagedserve::engine {

enum class PreemptionMode { recompute, swap };

struct GenerateRequest {
  std::string request_id;
  std::vector<std::int32_t> prompt_ids;
  model::SamplingParams sampling;  // temperature, top_p, max_tokens, stop, seed, logprobs, ...
  int n = 1;                       // samples returned
  int best_of = 0;                 // samples generated (0: n); the n best are returned
  bool use_beam_search = false;    // beam width = best_of (or n)
  float length_penalty = 1.0f;
  bool early_stopping = false;
  int priority = 0;                // lower runs first; FCFS among equals
};

// New tokens a request may produce: the newest token needs no K/V slot, so
// a sequence may end one past the model's last position (as llama2.c does).
inline int max_new_tokens(int max_tokens, int prompt_len, int max_model_len) {
  return std::min(max_tokens, max_model_len - prompt_len + 1);
}

// A token and its logprob: the sampler's own type (kernels/sampling.hpp).
using kernels::TokenLogprob;

// One generated token of sample `index`. Beam search emits its winners'
// tokens only when the request finishes (beams change until then).
struct TokenEvent {
  std::string request_id;
  int index = 0;
  std::int32_t token_id = 0;
  std::string text;  // whole UTF-8 characters (a partial one is held back)
  float logprob = 0;
  std::vector<TokenLogprob> top_logprobs;
};

// Sample `index` ended: "stop" (eos, stop token or stop string), "length",
// "cancelled", or "error" (with a message).
struct SampleFinished {
  std::string request_id;
  int index = 0;
  std::string finish_reason;
  std::string error;
  float cumulative_logprob = 0;
};

// The request is over: every sample finished; its blocks are freed.
struct RequestDone {
  std::string request_id;
  int prompt_tokens = 0;
  int completion_tokens = 0;  // over all returned samples
  int num_cached_prompt_tokens = 0;
  std::chrono::microseconds time_to_first_token{0};
  std::chrono::microseconds queue_time{0};  // arrival to first admission
};

using Event = std::variant<TokenEvent, SampleFinished, RequestDone>;

inline const std::string& request_id_of(const Event& e) {
  return std::visit([](const auto& x) -> const std::string& { return x.request_id; }, e);
}

enum class SubmitError { none, invalid_request, too_long, overloaded, shutting_down, duplicate_id, engine_dead };

struct SubmitResult {
  SubmitError error = SubmitError::none;
  std::string message;  // for the user, naming the offending parameter
  std::string param;    // the parameter at fault, if any
  bool ok() const { return error == SubmitError::none; }
};

}  // namespace pagedserve::engine
