#include "engine/request_limits.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace pagedserve::engine {

namespace {

SubmitResult invalid(const std::string& param, const std::string& message) {
  return {SubmitError::invalid_request, message, param};
}

SubmitResult too_long(const std::string& param, const std::string& message) {
  return {SubmitError::too_long, message, param};
}

}  // namespace

SubmitResult RequestLimits::check(const GenerateRequest& r) const {
  if (r.request_id.empty()) return invalid("request_id", "request_id must not be empty");
  if (r.prompt_ids.empty()) return invalid("prompt", "the prompt is empty");
  for (std::size_t i = 0; i < r.prompt_ids.size(); ++i)
    if (r.prompt_ids[i] < 0 || r.prompt_ids[i] >= vocab_size)
      return invalid("prompt", "prompt token " + std::to_string(r.prompt_ids[i]) + " at position " + std::to_string(i) +
                                   " is outside the vocabulary (0.." + std::to_string(vocab_size - 1) + ")");
  if (auto s = check_sampling(r); !s.ok()) return s;
  const auto prompt_len = static_cast<int>(r.prompt_ids.size());
  if (prompt_len > max_model_len)
    return too_long("prompt", "the prompt has " + std::to_string(prompt_len) + " tokens, more than the model's " +
                                  std::to_string(max_model_len) + " (its maximum context length" +
                                  (sliding_window > 0 && sliding_window <= max_model_len
                                       ? ": its sliding attention window, beyond which attention is not supported)"
                                       : ")"));
  return check_memory(r);
}

SubmitResult RequestLimits::check_sampling(const GenerateRequest& r) const {
  try {
    r.sampling.validate();
  } catch (const model::InvalidParam& e) {
    return invalid(e.param, e.what());
  }
  if (r.n < 1) return invalid("n", "n must be at least 1");
  if (r.n > max_n) return invalid("n", "n is " + std::to_string(r.n) + ", above the limit of " + std::to_string(max_n));
  if (r.best_of != 0 && r.best_of < r.n)
    return invalid("best_of", "best_of (" + std::to_string(r.best_of) + ") must be at least n (" + std::to_string(r.n) + ")");
  if (r.best_of > max_n)
    return invalid("best_of", "best_of is " + std::to_string(r.best_of) + ", above the limit of " + std::to_string(max_n));
  const int width = std::max(r.n, r.best_of);
  if (width > max_num_seqs)
    return invalid(r.best_of ? "best_of" : "n", "the request runs " + std::to_string(width) +
                                                    " sequences, more than max_num_seqs (" + std::to_string(max_num_seqs) + ")");
  if (r.use_beam_search && !r.sampling.constraint.empty())
    return invalid("use_beam_search", "beam search cannot be combined with structured output (response_format, guided_*)");
  if (r.use_beam_search && !r.sampling.stop.empty())
    return invalid("stop", "stop strings are not supported with beam search");
  if (!std::isfinite(r.length_penalty)) return invalid("length_penalty", "length_penalty must be a finite number");
  return {};
}

// The request must fit the KV pool on its own: one sequence of prompt +
// max_tokens (the last token needs no slot), and with n / best_of / beams
// the prompt once plus every sample's own tokens.
SubmitResult RequestLimits::check_memory(const GenerateRequest& r) const {
  const auto prompt_len = static_cast<std::int64_t>(r.prompt_ids.size());
  const std::int64_t max_new =
      std::max(0, max_new_tokens(r.sampling.max_tokens, static_cast<int>(prompt_len), max_model_len) - 1);
  auto blocks_for = [&](std::int64_t tokens) { return (tokens + block_size - 1) / block_size; };
  const std::int64_t one = blocks_for(prompt_len + max_new);
  if (one > num_usable_gpu_blocks)
    return too_long("max_tokens", "the request needs " + std::to_string(one) + " KV blocks of " + std::to_string(block_size) +
                                      " tokens (prompt " + std::to_string(prompt_len) + " + max_tokens " +
                                      std::to_string(max_new + 1) + ") but the KV pool holds only " +
                                      std::to_string(num_usable_gpu_blocks) + " usable blocks");
  const int width = std::max({r.n, r.best_of, 1});
  const std::int64_t shared = blocks_for(prompt_len) + width * (blocks_for(max_new) + 1);
  if (width > 1 && shared > num_usable_gpu_blocks)
    return too_long(r.best_of ? "best_of" : "n", "the request's " + std::to_string(width) + " sequences need " +
                                                     std::to_string(shared) + " KV blocks but the KV pool holds only " +
                                                     std::to_string(num_usable_gpu_blocks) + " usable blocks");
  return {};
}

}  // namespace pagedserve::engine
