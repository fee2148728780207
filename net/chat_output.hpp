#pragma once
// The response side of a chat answer: the generated text of one choice,
// whole or streamed, split into what the client sees,
//
//   reasoning_content   the thinking (<think>...</think>), with --reasoning-parser
//   content             the answer's text
//   tool_calls          the calls, by tool_choice:
//       auto      parsed from the text by the tool-call parser
//                 (--tool-call-parser or the chat template's format;
//                 none: no parsing); finish_reason "tool_calls" when any
//       required  the constrained JSON array [{"name", "parameters"}, ...],
//                 streamed as it is generated; finish_reason "tool_calls"
//                 (for "stop"); an array cut short (max_tokens) stays
//                 text in a whole response
//       named     the constrained text is the arguments of the one call;
//                 finish_reason as generated ("stop"), as vLLM does
//
// With tool calls the content is the text around them, trimmed, or null.
// Streamed, text that may still become a marker (a partial "<tool_call>",
// "</think>") is held back until it is decided. Plain C++ over the parsers
// of parsers/, so it is tested without a server.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/completion_format.hpp"
#include "net/tool_choice.hpp"
#include "parsers/reasoning_parser.hpp"
#include "parsers/tool_call_parser.hpp"

namespace pagedserve::net {

struct ChatOutputOptions {
  ToolChoiceMode tools = ToolChoiceMode::none;
  std::optional<parsers::ToolCallFormat> format;  // auto: the parser (none: text only)
  std::string function;                           // named: the function
  bool parallel_tool_calls = true;                // false: calls after the first are dropped
  bool reasoning = false;                         // split off <think>...</think>
  bool reasoning_starts_inside = false;           // the prompt opened <think>
};

// The options for a request: its tool choice, the server's tool-call format
// and reasoning parser. The reasoning is split only from unconstrained
// output (a constraint, tool_choice's own included, shapes the whole text
// from its first token); `prompt` tells whether the template opened <think>.
ChatOutputOptions chat_output_options(const ToolChoice& choice, std::optional<parsers::ToolCallFormat> format,
                                      bool reasoning_parser, bool constrained, std::string_view prompt);
// Whether the text needs splitting at all (else content is the text).
bool splits_output(const ChatOutputOptions& options);

// What one piece of streamed text adds.
struct ChatDelta {
  std::string reasoning;
  std::string content;
  std::vector<ToolCallPiece> tool_calls;
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

class CallArrayScanner;

class ChatOutput {
 public:
  explicit ChatOutput(ChatOutputOptions options);
  ~ChatOutput();
  ChatOutput(ChatOutput&&) noexcept;
  ChatOutput& operator=(ChatOutput&&) noexcept;

  // The part of the text seen so far that is decided.
  ChatDelta feed(std::string_view text);
  // The end of the output: what was held. Rewrites `finish_reason` as the
  // client sees it ("tool_calls").
  ChatDelta finish(std::string& finish_reason);
  // The whole message; complete after finish().
  const ChatMessageOut& message() const { return message_; }

 private:
  void route(std::string_view content, ChatDelta& out);
  void add_call(parsers::ToolCall call, ChatDelta& out);
  void named_text(std::string_view text, ChatDelta& out);
  void collect(const ChatDelta& d);

  ChatOutputOptions options_;
  std::optional<parsers::ReasoningStream> reasoning_;
  std::optional<parsers::ToolCallStream> parser_;
  std::unique_ptr<CallArrayScanner> scanner_;
  std::string raw_content_;  // the text after the reasoning, as generated
  bool named_started_ = false;
  ChatMessageOut message_;
};

// A whole output at once (non-streamed): the message and the client's
// finish reason.
ChatMessageOut chat_message(const ChatOutputOptions& options, std::string_view text, std::string& finish_reason);

// "call_" and 24 random hex digits.
std::string tool_call_id();

}  // namespace pagedserve::net
