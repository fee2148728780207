#pragma once
// POST /tokenize and POST /detokenize, with vLLM's request and response
// shapes:
//
//   /tokenize    {"prompt": "..."} or {"messages": [...]} (the chat template
//                renders them, with "tools", "add_generation_prompt",
//                "chat_template_kwargs" as chat requests give them),
//                "add_special_tokens" (default: as generation tokenizes:
//                BOS for a prompt, none for a templated chat), "return_token_strs"
//             -> {"count", "max_model_len", "tokens", "token_strs"}
//   /detokenize  {"tokens": [ids]} -> {"prompt": "..."}
//
// And llama.cpp's
//   /apply-template  {"messages": [...], ...chat fields as above}
//             -> {"prompt": "..."}: the text a chat request would generate from.
//
// "model" is checked like the generation routes'; other fields are ignored.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer.hpp"
#include "net/chat_template.hpp"
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

// Parse and validate; throw ApiError naming the field. Messages are
// rendered with `chat_template` (null: the fallback format).
TokenizeRequest parse_tokenize_request(std::string_view body, const InputLimits& limits,
                                       const ChatTemplate* chat_template);
DetokenizeRequest parse_detokenize_request(std::string_view body, const InputLimits& limits);

// The answers. token_strs holds each token's text as it follows the one
// before (bytes of a character split across tokens are kept apart).
std::string tokenize_body(const model::Tokenizer& tokenizer, const TokenizeRequest& request, int max_model_len);
// POST /apply-template's answer. Throws ApiError.
std::string apply_template_body(std::string_view body, const InputLimits& limits, const ChatTemplate* chat_template);

std::string detokenize_body(const model::Tokenizer& tokenizer, const DetokenizeRequest& request);

}  // namespace pagedserve::net
