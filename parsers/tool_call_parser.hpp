#pragma once
// Tool calls in a model's answer, in the formats of the supported families,
// whole or streamed:
//
//   hermes       Qwen2.5/Qwen3 and Hermes: <tool_call>{"name": .., "arguments": {..}}</tool_call>,
//                any number, with text around them
//   llama3_json  Llama 3.x: the whole answer is {"name": .., "parameters": {..}}
//                (or "arguments"), optionally after <|python_tag|>, several
//                separated by ';'
//   mistral      Mistral: text, then [TOOL_CALLS] and a JSON array of
//                {"name": .., "arguments": {..}}
//
// A call whose JSON does not parse, or lacks a string "name" and an object
// of arguments, is not a call: its text stays in the content, markers and
// all, so nothing the model wrote is lost. A streamed call is emitted whole
// once it is complete (its closing marker, or the end of the output).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::parsers {

enum class ToolCallFormat { hermes, llama3_json, mistral };

// "hermes", "llama3_json", "mistral"; nullopt for other names.
std::optional<ToolCallFormat> parse_tool_call_format(std::string_view name);
std::string_view tool_call_format_name(ToolCallFormat format);
// The format a chat template asks its model for, from the markers it
// writes; nullopt when it shows none.
std::optional<ToolCallFormat> detect_tool_call_format(std::string_view chat_template);

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, minified
};

struct ToolCallDelta {
  std::string content;
  std::vector<ToolCall> calls;
};

class ToolCallStream {
 public:
  explicit ToolCallStream(ToolCallFormat format);

  ToolCallDelta feed(std::string_view text);
  ToolCallDelta finish();

 private:
  void feed_hermes(ToolCallDelta& out);
  void feed_llama3(ToolCallDelta& out);
  void feed_mistral(ToolCallDelta& out);

  ToolCallFormat format_;
  std::string held_;
  bool inside_ = false;     // hermes: in a call; llama3/mistral: capturing to the end
  bool decided_ = false;    // llama3: whether the answer is a call is known
};

// A whole answer at once: the same result as streaming it.
ToolCallDelta parse_tool_calls(ToolCallFormat format, std::string_view text);

}  // namespace pagedserve::parsers
