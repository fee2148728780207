#pragma once
// POST /tokenize and POST /detokenize, with vLLM's request and response
// shapes:
//
//   /tokenize    {"prompt": "..."} or {"messages": [...]} (the chat template
//                renders them), "add_special_tokens" (default true: BOS, as
//                generation adds it), "return_token_strs"
//             -> {"count", "max_model_len", "tokens", "token_strs"}
//   /detokenize  {"tokens": [ids]} -> {"prompt": "..."}
//
// "model" is checked like the generation routes'; other fields are ignored.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer.hpp"
#include "net/completion_request.hpp"

namespace pagedserve::net {

struct TokenizeRequest {
  std::string model;
  std::string text;  // the prompt, or the rendered messages
  bool add_special_tokens = true;
  bool return_token_strs = false;
};

struct DetokenizeRequest {
  std::string model;
  std::vector<std::int32_t> tokens;
};

// Parse and validate; throw ApiError naming the field.
TokenizeRequest parse_tokenize_request(std::string_view body, const InputLimits& limits);
DetokenizeRequest parse_detokenize_request(std::string_view body, const InputLimits& limits);

// The answers. token_strs holds each token's text as it follows the one
// before (bytes of a character split across tokens are kept apart).
std::string tokenize_body(const model::Tokenizer& tokenizer, const TokenizeRequest& request, int max_model_len);
std::string detokenize_body(const model::Tokenizer& tokenizer, const DetokenizeRequest& request);

}  // namespace pagedserve::net
