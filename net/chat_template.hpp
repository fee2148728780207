#pragma once
// The model's chat template, compiled once when the engine is ready, and the
// one place a chat request's messages become prompt text: for
// /v1/chat/completions, /v1/responses, /tokenize with messages and
// /apply-template alike.
//
// The template sees what Hugging Face's apply_chat_template gives it:
// messages (as the request sent them, content parts joined), tools (the
// request's list, or None), add_generation_prompt, bos_token and eos_token
// (when the model names them), plus the request's chat_template_kwargs.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jinja/template.hpp"
#include "model/config.hpp"
#include "net/chat_request.hpp"

namespace pagedserve::net {

class ChatTemplate {
 public:
  // Compiles `override_source` (--chat-template) when given, else the
  // model's templates: "default", and "tool_use" for requests with tools.
  // Null when there is none (the fallback format). Throws
  // jinja::TemplateError (line and construct) for a template this engine
  // cannot render, std::runtime_error for a list without "default".
  static std::shared_ptr<const ChatTemplate> compile(const model::ChatTemplateSources& sources,
                                                     const std::optional<std::string>& override_source);

  // The prompt. Throws ApiError 400 carrying the template's own message
  // (raise_exception) or what went wrong while rendering.
  std::string render(const std::vector<ChatMessage>& messages, const ChatOptions& options) const;

 private:
  ChatTemplate(jinja::Template default_template, std::optional<jinja::Template> tool_use,
               const model::ChatTemplateSources& sources);

  jinja::Template default_;
  std::optional<jinja::Template> tool_use_;
  std::optional<std::string> bos_token_, eos_token_;
};

// A chat prompt and how to tokenize it: a template writes the special
// tokens itself (no BOS added then); the fallback format gets the
// tokenizer's BOS as plain prompts do.
struct ChatPrompt {
  std::string text;
  bool add_special_tokens = true;
};

// Renders with `chat_template`, or the fallback format when it is null (a
// request with tools is refused there: the fallback cannot show them).
ChatPrompt render_chat(const ChatTemplate* chat_template, const std::vector<ChatMessage>& messages,
                       const ChatOptions& options);

}  // namespace pagedserve::net
