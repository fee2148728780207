#include "net/completion_format.hpp"

#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace {

void write_head(JsonWriter& w, const ResponseMeta& meta, std::string_view object) {
  w.field("id", meta.id).field("object", object).field("created", meta.created).field("model", meta.model);
}

void write_usage(JsonWriter& w, const Usage& u) {
  w.key("usage").begin_object();
  w.field("prompt_tokens", u.prompt_tokens).field("completion_tokens", u.completion_tokens);
  w.field("total_tokens", u.prompt_tokens + u.completion_tokens);
  w.key("prompt_tokens_details").begin_object().field("cached_tokens", u.cached_tokens).end_object().end_object();
}

void write_finish(JsonWriter& w, std::string_view finish_reason) {
  w.key("finish_reason");
  finish_reason.empty() ? w.null() : w.value(finish_reason);
}

// Completions' logprobs: parallel lists over the tokens.
void write_completion_logprobs(JsonWriter& w, const LogprobEntry* entries, std::size_t count) {
  w.begin_object().key("tokens").begin_array();
  for (std::size_t i = 0; i < count; ++i) w.value(entries[i].token);
  w.end_array().key("token_logprobs").begin_array();
  for (std::size_t i = 0; i < count; ++i) w.value(static_cast<double>(entries[i].logprob));
  w.end_array().key("top_logprobs").begin_array();
  for (std::size_t i = 0; i < count; ++i) {
    w.begin_object();
    for (const auto& [token, lp] : entries[i].top) w.field(token, static_cast<double>(lp));
    w.end_object();
  }
  w.end_array().key("text_offset").begin_array();
  for (std::size_t i = 0; i < count; ++i) w.value(static_cast<std::int64_t>(entries[i].text_offset));
  w.end_array().end_object();
}

void write_bytes(JsonWriter& w, std::string_view token) {
  w.key("bytes").begin_array();
  for (unsigned char c : token) w.value(static_cast<std::int64_t>(c));
  w.end_array();
}

// Chat's logprobs: one object per token with its alternatives.
void write_chat_logprobs(JsonWriter& w, const LogprobEntry* entries, std::size_t count) {
  w.begin_object().key("content").begin_array();
  for (std::size_t i = 0; i < count; ++i) {
    const auto& e = entries[i];
    w.begin_object().field("token", e.token).field("logprob", static_cast<double>(e.logprob));
    write_bytes(w, e.token);
    w.key("top_logprobs").begin_array();
    for (const auto& [token, lp] : e.top) {
      w.begin_object().field("token", token).field("logprob", static_cast<double>(lp));
      write_bytes(w, token);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("refusal").null().end_object();
}

void write_tool_call_function(JsonWriter& w, std::string_view name, std::string_view arguments, bool with_name) {
  w.key("function").begin_object();
  if (with_name) w.field("name", name);
  w.field("arguments", arguments).end_object();
}

void write_message(JsonWriter& w, const Choice& c) {
  w.key("message").begin_object().field("role", "assistant");
  if (!c.message) return (void)w.field("content", c.text).end_object();
  const ChatMessageOut& m = *c.message;
  w.key("content");
  m.content ? w.value(*m.content) : w.null();
  if (m.with_reasoning) {
    w.key("reasoning_content");
    m.reasoning.empty() ? w.null() : w.value(m.reasoning);
  }
  if (!m.tool_calls.empty()) {
    w.key("tool_calls").begin_array();
    for (const auto& call : m.tool_calls) {
      w.begin_object().field("id", call.id).field("type", "function");
      write_tool_call_function(w, call.name, call.arguments, true);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::string completion_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs,
                            const Usage& usage) {
  JsonWriter w;
  w.begin_object();
  write_head(w, meta, "text_completion");
  w.key("choices").begin_array();
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const auto& c = choices[i];
    w.begin_object().field("text", c.text).field("index", static_cast<std::int64_t>(i)).key("logprobs");
    with_logprobs ? write_completion_logprobs(w, c.logprobs.data(), c.logprobs.size()) : (void)w.null();
    write_finish(w, c.finish_reason);
    w.end_object();
  }
  w.end_array();
  write_usage(w, usage);
  return w.end_object().take();
}

std::string completion_chunk(const ResponseMeta& meta, int index, std::string_view text, const LogprobEntry* logprob,
                             std::string_view finish_reason) {
  JsonWriter w;
  w.begin_object();
  write_head(w, meta, "text_completion");
  w.key("choices").begin_array().begin_object().field("text", text).field("index", index).key("logprobs");
  logprob ? write_completion_logprobs(w, logprob, 1) : (void)w.null();
  write_finish(w, finish_reason);
  return w.end_object().end_array().end_object().take();
}

std::string chat_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs, const Usage& usage) {
  JsonWriter w;
  w.begin_object();
  write_head(w, meta, "chat.completion");
  w.key("choices").begin_array();
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const auto& c = choices[i];
    w.begin_object().field("index", static_cast<std::int64_t>(i));
    write_message(w, c);
    w.key("logprobs");
    with_logprobs ? write_chat_logprobs(w, c.logprobs.data(), c.logprobs.size()) : (void)w.null();
    write_finish(w, c.finish_reason);
    w.end_object();
  }
  w.end_array();
  write_usage(w, usage);
  return w.end_object().take();
}

std::string chat_chunk(const ResponseMeta& meta, int index, std::string_view role, std::string_view content,
                       const LogprobEntry* logprob, std::string_view finish_reason) {
  return chat_chunk(meta, index, ChatChunkDelta{role, "", content, nullptr}, logprob, finish_reason);
}

std::string chat_chunk(const ResponseMeta& meta, int index, const ChatChunkDelta& d, const LogprobEntry* logprob,
                       std::string_view finish_reason) {
  JsonWriter w;
  w.begin_object();
  write_head(w, meta, "chat.completion.chunk");
  w.key("choices").begin_array().begin_object().field("index", index).key("delta").begin_object();
  if (!d.role.empty()) w.field("role", d.role);
  if (!d.reasoning.empty()) w.field("reasoning_content", d.reasoning);
  if (!d.content.empty() || !d.role.empty() || logprob) w.field("content", d.content);
  if (const ToolCallPiece* p = d.tool_call) {
    w.key("tool_calls").begin_array().begin_object().field("index", p->index);
    if (p->first) w.field("id", p->id).field("type", "function");
    write_tool_call_function(w, p->name, p->arguments, p->first);
    w.end_object().end_array();
  }
  w.end_object().key("logprobs");
  logprob ? write_chat_logprobs(w, logprob, 1) : (void)w.null();
  write_finish(w, finish_reason);
  return w.end_object().end_array().end_object().take();
}

std::string usage_chunk(const ResponseMeta& meta, std::string_view object, const Usage& usage) {
  JsonWriter w;
  w.begin_object();
  write_head(w, meta, object);
  w.key("choices").begin_array().end_array();
  write_usage(w, usage);
  return w.end_object().take();
}

}  // namespace pagedserve::net
