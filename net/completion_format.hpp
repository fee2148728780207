#pragma once
// The OpenAI response shapes, as JSON text: text_completion bodies and
// stream chunks, chat.completion bodies and chat.completion.chunk deltas.
// Plain functions of plain data, so the schema is tested without a server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pagedserve::net {

// One generated token as logprobs report it.
struct LogprobEntry {
  std::string token;  // its text (or "token_id:N" when asked for ids)
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;  // best alternatives, descending
  std::size_t text_offset = 0;  // where its text starts in the choice's text
};

// A call of a function the request offered, as the response shows it:
// {"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}.
struct ToolCallOut {
  std::string id;  // call_...
  std::string name;
  std::string arguments;
};

// One streamed piece of a tool call: the first of a call carries its id
// and name (and arguments ""), the next ones the arguments text as it comes.
struct ToolCallPiece {
  int index = 0;    // the call's place in the message's tool_calls
  std::string id;   // first piece only
  std::string name; // first piece only
  std::string arguments;
  bool first = false;
};

// A chat answer split into its parts (net/chat_output.hpp).
struct ChatMessageOut {
  bool with_reasoning = false;         // a reasoning parser ran: reasoning_content is shown
  std::string reasoning;               // "" -> null
  std::optional<std::string> content;  // nullopt -> null (only tool calls)
  std::vector<ToolCallOut> tool_calls;
};

// One choice of a response as it accumulates.
struct Choice {
  std::string text;
  std::vector<LogprobEntry> logprobs;
  std::string finish_reason;  // "" while running
  int num_tokens = 0;
  std::optional<ChatMessageOut> message;  // chat, when parsed: the message instead of {"content": text}
};

struct ResponseMeta {
  std::string id;  // cmpl-... / chatcmpl-...
  std::int64_t created = 0;
  std::string model;
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;  // prompt tokens whose KV blocks came from the prefix cache
};

// {"id","object":"text_completion","created","model","choices":[...],"usage"}
std::string completion_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs,
                            const Usage& usage);
// One streamed piece of choice `index`: its new text, the logprobs of its new
// token (or none), and the finish reason once it ends ("" -> null).
std::string completion_chunk(const ResponseMeta& meta, int index, std::string_view text, const LogprobEntry* logprob,
                             std::string_view finish_reason);

// {"id","object":"chat.completion",...,"choices":[{"index","message":{"role","content"},"logprobs","finish_reason"}]}
// with "reasoning_content" (when a reasoning parser ran) and "tool_calls"
// (when there are any) in the message.
std::string chat_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs, const Usage& usage);

// What one chat.completion.chunk's delta carries.
struct ChatChunkDelta {
  std::string_view role;       // a choice's first chunk only
  std::string_view reasoning;  // "reasoning_content", when not empty
  std::string_view content;
  const ToolCallPiece* tool_call = nullptr;  // "tool_calls": [piece]
};

// A chat.completion.chunk: "content" is written when not empty, on the
// first chunk, and with a logprob; a delta with nothing gives {}.
std::string chat_chunk(const ResponseMeta& meta, int index, const ChatChunkDelta& delta, const LogprobEntry* logprob,
                       std::string_view finish_reason);
// The same with only role and content.
std::string chat_chunk(const ResponseMeta& meta, int index, std::string_view role, std::string_view content,
                       const LogprobEntry* logprob, std::string_view finish_reason);

// The closing chunk of a stream that asked for usage: "choices": [] and the totals.
std::string usage_chunk(const ResponseMeta& meta, std::string_view object, const Usage& usage);

}  // namespace pagedserve::net
