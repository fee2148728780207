#include "net/chat_output.hpp"

#include <simdjson.h>

#include "net/generation.hpp"
#include "parsers/held_marker.hpp"

namespace pagedserve::net {

// tool_choice "required": the JSON array [{"name": .., "parameters": {..}}, ..]
// read as it is generated, one character at a time (it is compact JSON: no
// whitespace but a space after ':' and ','). Each element's "parameters"
// value is streamed as the call's arguments once its name is known.
class CallArrayScanner {
 public:
  void feed(std::string_view text, ChatDelta& out) {
    raw_.append(text);
    for (; pos_ < raw_.size(); ++pos_) step(raw_[pos_], out);
    flush(raw_.size(), out);
  }

  // The calls, when the whole text is such an array.
  std::optional<std::vector<ToolCallOut>> finish() const {
    simdjson::dom::parser parser;
    simdjson::dom::array array;
    if (parser.parse(raw_).get(array) || calls_.size() != array.size() || in_element_) return std::nullopt;
    std::vector<ToolCallOut> calls = calls_;
    for (auto& c : calls) {
      if (c.name.empty()) return std::nullopt;
      if (c.id.empty()) c.id = tool_call_id();
      if (c.arguments.empty()) c.arguments = "{}";
    }
    return calls;
  }

  const std::string& text() const { return raw_; }

 private:
  enum class Kind { container, string, scalar };

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  void step(char c, ChatDelta& out) {
    if (in_string_) {
      if (escape_) escape_ = false;
      else if (c == '\\') escape_ = true;
      else if (c == '"') string_end(out);
      return;
    }
    switch (c) {
      case '"':
        in_string_ = true;
        if (depth_ == 2 && expect_key_) key_start_ = pos_;
        else if (depth_ == 2 && expect_value_) value_start(Kind::string);
        break;
      case '{':
      case '[':
        if (depth_ == 2 && expect_value_) value_start(Kind::container);
        ++depth_;
        if (depth_ == 2 && c == '{') element_start();
        break;
      case '}':
      case ']':
        if (depth_ == 2 && value_active_ && kind_ == Kind::scalar) value_end(pos_, out);
        --depth_;
        if (depth_ == 2 && value_active_ && kind_ == Kind::container) value_end(pos_ + 1, out);
        if (depth_ == 1 && c == '}' && in_element_) element_end(out);
        break;
      case ',':
        if (depth_ == 2) {
          if (value_active_ && kind_ == Kind::scalar) value_end(pos_, out);
          expect_key_ = true;
        }
        break;
      case ':':
        if (depth_ == 2) {
          expect_key_ = false;
          expect_value_ = true;
        }
        break;
      default:
        if (depth_ == 2 && expect_value_ && !is_space(c)) value_start(Kind::scalar);
    }
  }

  void element_start() {
    in_element_ = true;
    expect_key_ = true;
    expect_value_ = false;
    value_active_ = false;
    calls_.push_back({});
    key_.clear();
    header_sent_ = false;
    args_start_ = args_end_ = args_sent_ = std::string::npos;
  }

  void element_end(ChatDelta& out) {
    in_element_ = false;
    flush(raw_.size(), out);
  }

  void string_end(ChatDelta& out) {
    in_string_ = false;
    if (depth_ != 2) return;
    if (key_start_ != std::string::npos) {
      key_ = raw_.substr(key_start_ + 1, pos_ - key_start_ - 1);
      key_start_ = std::string::npos;
    } else if (value_active_ && kind_ == Kind::string) {
      value_end(pos_ + 1, out);
    }
  }

  void value_start(Kind kind) {
    expect_value_ = false;
    value_active_ = true;
    kind_ = kind;
    value_start_ = pos_;
    if (key_ == "parameters") args_start_ = pos_;
  }

  void value_end(std::size_t end, ChatDelta& out) {
    value_active_ = false;
    if (key_ == "name") {
      simdjson::dom::parser parser;
      std::string_view name;
      if (!parser.parse(raw_.substr(value_start_, end - value_start_)).get(name)) calls_.back().name = std::string(name);
    } else if (key_ == "parameters") {
      args_end_ = end;
      calls_.back().arguments = raw_.substr(args_start_, end - args_start_);
    }
    flush(end, out);
  }

  // Streams the current call: its header once its name is known and its
  // arguments began, then the arguments up to `upto` (or their end).
  void flush(std::size_t upto, ChatDelta& out) {
    if (calls_.empty() || args_start_ == std::string::npos) return;
    ToolCallOut& call = calls_.back();
    const int index = static_cast<int>(calls_.size()) - 1;
    if (!header_sent_) {
      if (call.name.empty()) return;
      call.id = tool_call_id();
      out.tool_calls.push_back({index, call.id, call.name, "", true});
      header_sent_ = true;
      args_sent_ = args_start_;
    }
    const std::size_t end = std::min(upto, args_end_ == std::string::npos ? raw_.size() : args_end_);
    if (end > args_sent_) {
      out.tool_calls.push_back({index, "", "", raw_.substr(args_sent_, end - args_sent_), false});
      args_sent_ = end;
    }
  }

  std::string raw_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  bool in_string_ = false, escape_ = false;
  bool in_element_ = false, expect_key_ = false, expect_value_ = false, value_active_ = false;
  Kind kind_ = Kind::scalar;
  std::size_t key_start_ = std::string::npos, value_start_ = 0;
  std::string key_;
  std::vector<ToolCallOut> calls_;
  bool header_sent_ = false;
  std::size_t args_start_ = std::string::npos, args_end_ = std::string::npos, args_sent_ = std::string::npos;
};

std::string tool_call_id() { return "call_" + random_hex(24); }

ChatOutputOptions chat_output_options(const ToolChoice& choice, std::optional<parsers::ToolCallFormat> format,
                                      bool reasoning_parser, bool constrained, std::string_view prompt) {
  ChatOutputOptions o;
  o.tools = choice.mode;
  o.format = format;
  o.function = choice.function;
  o.parallel_tool_calls = choice.parallel_tool_calls;
  o.reasoning = reasoning_parser && !constrained;
  o.reasoning_starts_inside = o.reasoning && parsers::prompt_opens_reasoning(prompt);
  return o;
}

bool splits_output(const ChatOutputOptions& o) {
  return o.reasoning || o.tools == ToolChoiceMode::required || o.tools == ToolChoiceMode::named ||
         (o.tools == ToolChoiceMode::automatic && o.format);
}

ChatOutput::ChatOutput(ChatOutputOptions options) : options_(std::move(options)) {
  if (options_.reasoning) reasoning_.emplace(options_.reasoning_starts_inside);
  if (options_.tools == ToolChoiceMode::automatic && options_.format) parser_.emplace(*options_.format);
  if (options_.tools == ToolChoiceMode::required) scanner_ = std::make_unique<CallArrayScanner>();
  message_.with_reasoning = options_.reasoning;
}

ChatOutput::~ChatOutput() = default;
ChatOutput::ChatOutput(ChatOutput&&) noexcept = default;
ChatOutput& ChatOutput::operator=(ChatOutput&&) noexcept = default;

void ChatOutput::add_call(parsers::ToolCall call, ChatDelta& out) {
  if (!options_.parallel_tool_calls && !message_.tool_calls.empty()) return;  // vLLM keeps the first
  const int index = static_cast<int>(message_.tool_calls.size());
  ToolCallOut c{tool_call_id(), std::move(call.name), std::move(call.arguments)};
  out.tool_calls.push_back({index, c.id, c.name, "", true});
  out.tool_calls.push_back({index, "", "", c.arguments, false});
  message_.tool_calls.push_back(std::move(c));
}

void ChatOutput::named_text(std::string_view text, ChatDelta& out) {
  if (!named_started_) {
    named_started_ = true;
    message_.tool_calls.push_back({tool_call_id(), options_.function, ""});
    out.tool_calls.push_back({0, message_.tool_calls[0].id, options_.function, "", true});
  }
  if (text.empty()) return;
  message_.tool_calls[0].arguments.append(text);
  out.tool_calls.push_back({0, "", "", std::string(text), false});
}

void ChatOutput::route(std::string_view content, ChatDelta& out) {
  raw_content_.append(content);
  switch (options_.tools) {
    case ToolChoiceMode::required:
      scanner_->feed(content, out);
      return;
    case ToolChoiceMode::named:
      if (!content.empty()) named_text(content, out);
      return;
    case ToolChoiceMode::automatic:
      if (parser_) {
        parsers::ToolCallDelta d = parser_->feed(content);
        out.content += d.content;
        for (auto& call : d.calls) add_call(std::move(call), out);
        return;
      }
      break;
    case ToolChoiceMode::none:
      break;
  }
  out.content.append(content);
}

void ChatOutput::collect(const ChatDelta& d) {
  message_.reasoning += d.reasoning;
  if (!d.content.empty()) {
    if (!message_.content) message_.content.emplace();
    message_.content->append(d.content);
  }
}

ChatDelta ChatOutput::feed(std::string_view text) {
  ChatDelta out;
  if (reasoning_) {
    parsers::ReasoningSplit split = reasoning_->feed(text);
    out.reasoning = std::move(split.reasoning);
    route(split.content, out);
  } else {
    route(text, out);
  }
  collect(out);
  return out;
}

ChatDelta ChatOutput::finish(std::string& finish_reason) {
  ChatDelta out;
  if (reasoning_) {
    parsers::ReasoningSplit split = reasoning_->finish();
    out.reasoning = std::move(split.reasoning);
    route(split.content, out);
  }
  if (parser_) {
    parsers::ToolCallDelta d = parser_->finish();
    out.content += d.content;
    for (auto& call : d.calls) add_call(std::move(call), out);
  }
  collect(out);
  switch (options_.tools) {
    case ToolChoiceMode::required:
      if (auto calls = scanner_->finish()) {
        message_.tool_calls = std::move(*calls);
        message_.content.reset();
        if (finish_reason == "stop") finish_reason = "tool_calls";
      } else {
        message_.content = raw_content_;  // cut short: the text as it is
      }
      break;
    case ToolChoiceMode::named:
      if (!named_started_) named_text("", out);
      message_.content.reset();
      break;
    case ToolChoiceMode::automatic:
    case ToolChoiceMode::none:
      if (!message_.tool_calls.empty()) {
        finish_reason = "tool_calls";
        const std::string_view text = message_.content ? parsers::trim(*message_.content) : std::string_view();
        message_.content = text.empty() ? std::nullopt : std::optional<std::string>(text);
      } else if (!message_.content) {
        message_.content.emplace();
      }
      break;
  }
  return out;
}

ChatMessageOut chat_message(const ChatOutputOptions& options, std::string_view text, std::string& finish_reason) {
  ChatOutput output(options);
  output.feed(text);
  output.finish(finish_reason);
  return output.message();
}

}  // namespace pagedserve::net
