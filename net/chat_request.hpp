#pragma once
// POST /v1/chat/completions: messages rendered into one prompt by a chat
// template, plus the generation parameters completions take.
//
// The default template (used because the model formats this server loads
// carry no chat template of their own) writes each message as
//   <|role|>\n
//   content\n
// and ends with "<|assistant|>\n" so the model continues as the assistant.

#include <simdjson.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "net/completion_request.hpp"

namespace pagedserve::net {

struct ChatMessage {
  std::string role;     // system, developer, user, assistant or tool
  std::string content;  // text parts joined
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  GenerationParams params;  // want_logprobs = "logprobs": true; sampling.logprobs = top_logprobs
};

// A message's content: a string or a list of text parts whose "type" is one
// of `part_types`, joined. Throws ApiError naming `field`.
std::string read_text_content(simdjson::dom::element v, const std::string& field,
                              std::initializer_list<std::string_view> part_types, const InputLimits& limits);

// A "messages" list, each message checked. Throws ApiError.
std::vector<ChatMessage> read_messages(simdjson::dom::element v, const InputLimits& limits);

// Parses and validates a /v1/chat/completions body. Throws ApiError.
ChatRequest parse_chat_request(std::string_view body, const InputLimits& limits);

// The prompt text for `messages` under the default template.
std::string render_chat_prompt(const std::vector<ChatMessage>& messages);

}  // namespace pagedserve::net
