#pragma once
// POST /v1/chat/completions: messages rendered into one prompt by the
// model's chat template (net/chat_template.hpp), plus the generation
// parameters completions take.
//
// A model without a chat template (llama2.c checkpoints, a Hugging Face
// directory whose tokenizer_config.json has none) gets the fallback format,
// each message written as
//   <|role|>\n
//   content\n
// and "<|assistant|>\n" last, so the model continues as the assistant.

#include <simdjson.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "jinja/value.hpp"
#include "net/completion_request.hpp"
#include "net/tool_choice.hpp"

namespace pagedserve::net {

struct ChatMessage {
  std::string role;     // system, developer, user, assistant or tool
  std::string content;  // text parts joined
  // The message as the request gave it (tool_calls, name, ...), content
  // parts joined: what a chat template sees. Undefined for messages built
  // here (the Responses API's), which templates see as {role, content}.
  jinja::Value fields{};
};

// What a chat template gets beside the messages, as vLLM passes them.
struct ChatOptions {
  jinja::Value tools = jinja::Value::none();  // the request's "tools" list
  bool add_generation_prompt = true;
  jinja::Dict template_kwargs;  // "chat_template_kwargs", e.g. enable_thinking
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  ChatOptions options;
  ToolsRequest tools;  // the functions, tool_choice (defaulted and checked), parallel_tool_calls
  GenerationParams params;  // want_logprobs = "logprobs": true; sampling.logprobs = top_logprobs
};

// A message's content: a string or a list of text parts whose "type" is one
// of `part_types`, joined. Throws ApiError naming `field`.
std::string read_text_content(simdjson::dom::element v, const std::string& field,
                              std::initializer_list<std::string_view> part_types, const InputLimits& limits);

// A "messages" list, each message checked. Throws ApiError.
std::vector<ChatMessage> read_messages(simdjson::dom::element v, const InputLimits& limits);

// Reads `key` into `options` when it is one of "tools" (each a function
// tool, checked as net/tool_choice.hpp reads them), "add_generation_prompt",
// "chat_template_kwargs"; false for other keys. Throws ApiError.
bool read_chat_option(std::string_view key, simdjson::dom::element v, ChatOptions& options);

// Parses and validates a /v1/chat/completions body; tool_choice "required"
// or a named function sets the grammar constraint. Throws ApiError.
ChatRequest parse_chat_request(std::string_view body, const InputLimits& limits);

// The prompt text for `messages` in the fallback format.
std::string render_chat_prompt(const std::vector<ChatMessage>& messages);

}  // namespace pagedserve::net
