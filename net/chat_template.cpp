#include "net/chat_template.hpp"

#include <stdexcept>

namespace pagedserve::net {

namespace {

const std::string* find_named(const model::ChatTemplateSources& sources, const std::string& name) {
  for (const auto& [n, source] : sources.named)
    if (n == name) return &source;
  return nullptr;
}

// Compiles one template, naming it in the refusal.
jinja::Template compile_named(const std::string& name, const std::string& source) {
  try {
    return jinja::Template(source);
  } catch (const jinja::TemplateError& e) {
    throw jinja::TemplateError("chat template \"" + name + "\": " + e.what());
  }
}

jinja::Value message_value(const ChatMessage& m) {
  if (!m.fields.is_undefined()) return m.fields;
  return jinja::Value::dict({{"role", jinja::Value(m.role)}, {"content", jinja::Value(m.content)}});
}

bool has_tools(const ChatOptions& options) { return options.tools.is_list() && !options.tools.as_list().empty(); }

}  // namespace

ChatTemplate::ChatTemplate(jinja::Template default_template, std::optional<jinja::Template> tool_use,
                           const model::ChatTemplateSources& sources)
    : default_(std::move(default_template)),
      tool_use_(std::move(tool_use)),
      bos_token_(sources.bos_token),
      eos_token_(sources.eos_token) {}

std::shared_ptr<const ChatTemplate> ChatTemplate::compile(const model::ChatTemplateSources& sources,
                                                          const std::optional<std::string>& override_source) {
  if (override_source)
    return std::shared_ptr<const ChatTemplate>(new ChatTemplate(compile_named("--chat-template", *override_source), std::nullopt, sources));
  if (sources.named.empty()) return nullptr;
  const std::string* default_source = find_named(sources, "default");
  if (!default_source)
    throw std::runtime_error("tokenizer_config.json lists chat templates but none named \"default\"");
  // Every template is checked at load, the ones not used by default too.
  std::optional<jinja::Template> tool_use;
  for (const auto& [name, source] : sources.named) {
    jinja::Template compiled = compile_named(name, source);
    if (name == "tool_use") tool_use = std::move(compiled);
  }
  return std::shared_ptr<const ChatTemplate>(new ChatTemplate(compile_named("default", *default_source), std::move(tool_use), sources));
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  jinja::List list;
  for (const auto& m : messages) list.push_back(message_value(m));
  jinja::Dict variables = {{"messages", jinja::Value::list(std::move(list))},
                           {"tools", options.tools},
                           {"documents", jinja::Value::none()},
                           {"add_generation_prompt", jinja::Value(options.add_generation_prompt)}};
  if (bos_token_) variables.emplace_back("bos_token", jinja::Value(*bos_token_));
  if (eos_token_) variables.emplace_back("eos_token", jinja::Value(*eos_token_));
  for (const auto& kw : options.template_kwargs) variables.push_back(kw);  // later names win, as in Python's **kwargs
  const jinja::Template& chosen = has_tools(options) && tool_use_ ? *tool_use_ : default_;
  try {
    return chosen.render(variables);
  } catch (const jinja::RenderError& e) {
    throw invalid_request("messages", std::string("the chat template refused the request: ") + e.what(), "chat_template_error");
  }
}

ChatPrompt render_chat(const ChatTemplate* chat_template, const std::vector<ChatMessage>& messages,
                       const ChatOptions& options) {
  if (chat_template) return {chat_template->render(messages, options), false};
  if (has_tools(options))
    throw invalid_request("tools", "this model has no chat template to tell it of tools (see --chat-template)");
  return {render_chat_prompt(messages), true};
}

}  // namespace pagedserve::net
