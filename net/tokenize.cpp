#include "net/tokenize.hpp"

#include "net/chat_request.hpp"
#include "net/json_read.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::net {

TokenizeRequest parse_tokenize_request(std::string_view body, const InputLimits& limits,
                                       const ChatTemplate* chat_template) {
  TokenizeRequest out;
  bool has_prompt = false, has_messages = false;
  std::optional<bool> add_special_tokens;
  std::vector<ChatMessage> messages;
  ChatOptions options;
  for (auto [key, value] : parse_object(thread_parser(), body)) {
    if (value.is_null()) continue;
    if (key == "prompt") {
      out.text = read_string(value, "prompt", limits.max_string_bytes);
      has_prompt = true;
    } else if (key == "messages") {
      messages = read_messages(value, limits);
      has_messages = true;
    } else if (read_chat_option(key, value, options)) {
    } else if (key == "add_special_tokens") {
      add_special_tokens = read_bool(value, "add_special_tokens");
    } else if (key == "return_token_strs") {
      out.return_token_strs = read_bool(value, "return_token_strs");
    } else if (key == "model") {
      out.model = read_string(value, "model", 1024);
    }
  }
  if (has_prompt == has_messages) throw invalid_request(has_prompt ? "messages" : "prompt", "give prompt or messages (one of them)");
  if (has_messages) {
    const ChatPrompt prompt = render_chat(chat_template, messages, options);
    out.text = prompt.text;
    out.add_special_tokens = prompt.add_special_tokens;
  }
  out.add_special_tokens = add_special_tokens.value_or(out.add_special_tokens);
  return out;
}

std::string apply_template_body(std::string_view body, const InputLimits& limits, const ChatTemplate* chat_template) {
  std::vector<ChatMessage> messages;
  ChatOptions options;
  bool has_messages = false;
  for (auto [key, value] : parse_object(thread_parser(), body)) {
    if (value.is_null()) continue;
    if (key == "messages") {
      messages = read_messages(value, limits);
      has_messages = true;
    } else {
      read_chat_option(key, value, options);
    }
  }
  if (!has_messages) throw invalid_request("messages", "messages is required");
  JsonWriter w;
  return w.begin_object().field("prompt", render_chat(chat_template, messages, options).text).end_object().take();
}

DetokenizeRequest parse_detokenize_request(std::string_view body, const InputLimits& limits) {
  DetokenizeRequest out;
  bool has_tokens = false;
  for (auto [key, value] : parse_object(thread_parser(), body)) {
    if (value.is_null()) continue;
    if (key == "tokens") {
      has_tokens = true;
      const std::int64_t max_id = limits.vocab_size > 0 ? limits.vocab_size - 1 : INT32_MAX;
      for (auto id : read_array(value, "tokens")) out.tokens.push_back(static_cast<std::int32_t>(read_int(id, "tokens", 0, max_id)));
    } else if (key == "model") {
      out.model = read_string(value, "model", 1024);
    }
  }
  if (!has_tokens) throw invalid_request("tokens", "tokens is required");
  return out;
}

std::string tokenize_body(const model::Tokenizer& tokenizer, const TokenizeRequest& request, int max_model_len) {
  const auto ids = tokenizer.encode(request.text, request.add_special_tokens);
  JsonWriter w;
  w.begin_object().field("count", static_cast<std::int64_t>(ids.size())).field("max_model_len", max_model_len);
  w.key("tokens").int_array(ids).key("token_strs");
  if (!request.return_token_strs) {
    w.null();
  } else {
    w.begin_array();
    std::int32_t prev = tokenizer.bos_id();
    for (auto id : ids) {
      w.value(tokenizer.decode_piece(prev, id));
      prev = id;
    }
    w.end_array();
  }
  return w.end_object().take();
}

std::string detokenize_body(const model::Tokenizer& tokenizer, const DetokenizeRequest& request) {
  // A leading BOS is a marker, not text; the first piece follows it.
  std::vector<std::int32_t> ids = request.tokens;
  if (!ids.empty() && ids.front() == tokenizer.bos_id()) ids.erase(ids.begin());
  JsonWriter w;
  return w.begin_object().field("prompt", tokenizer.decode(tokenizer.bos_id(), ids)).end_object().take();
}

}  // namespace pagedserve::net
