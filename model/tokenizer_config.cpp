#include "model/tokenizer_config.hpp"

#include <simdjson.h>

#include <stdexcept>

namespace pagedserve::model {

namespace {

using simdjson::dom::element;

std::optional<std::string> token_text(element root, const char* name, const std::string& where) {
  element v;
  if (root[name].get(v) || v.is_null()) return std::nullopt;
  std::string_view text;
  if (v.get(text) && v["content"].get(text))
    throw std::runtime_error(where + ": tokenizer_config.json field " + name + " is neither a string nor an AddedToken");
  return std::string(text);
}

std::optional<std::string> first_special(element template_processing) {
  simdjson::dom::array single;
  std::string_view id;
  if (template_processing["single"].get(single) || single.size() == 0) return std::nullopt;
  if (single.at(0)["SpecialToken"]["id"].get(id)) return std::nullopt;
  return std::string(id);
}

// "chat_template": "..." or [{"name": "default", "template": "..."}, ...].
std::vector<std::pair<std::string, std::string>> chat_templates(element root, const std::string& where) {
  element v;
  if (root["chat_template"].get(v) || v.is_null()) return {};
  std::string_view text;
  if (!v.get(text)) return {{"default", std::string(text)}};
  simdjson::dom::array list;
  const std::string bad = where + ": tokenizer_config.json field chat_template is neither a string nor a list of {name, template}";
  if (v.get(list)) throw std::runtime_error(bad);
  std::vector<std::pair<std::string, std::string>> out;
  for (element entry : list) {
    std::string_view name, source;
    if (entry["name"].get(name) || entry["template"].get(source)) throw std::runtime_error(bad);
    out.emplace_back(std::string(name), std::string(source));
  }
  return out;
}

}  // namespace

TokenizerConfig parse_tokenizer_config(const std::string& json_text, const std::string& where) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json_text).get(root) || !root.is_object())
    throw std::runtime_error(where + ": tokenizer_config.json is not a JSON object");
  TokenizerConfig c;
  c.present = true;
  element v;
  if (!root["add_bos_token"].get(v) && !v.is_null()) {
    bool b = false;
    if (v.get(b)) throw std::runtime_error(where + ": tokenizer_config.json field add_bos_token is not a boolean");
    c.add_bos_token = b;
  }
  c.bos_token = token_text(root, "bos_token", where);
  c.eos_token = token_text(root, "eos_token", where);
  c.chat_templates = chat_templates(root, where);
  return c;
}

std::optional<std::string> template_bos_token(const std::string& tokenizer_json) {
  simdjson::dom::parser parser;
  element root, post;
  if (parser.parse(tokenizer_json).get(root) || root["post_processor"].get(post) || post.is_null()) return std::nullopt;
  std::string_view type;
  if (post["type"].get(type)) return std::nullopt;
  if (type == "TemplateProcessing") return first_special(post);
  simdjson::dom::array steps;
  if (type != "Sequence" || post["processors"].get(steps)) return std::nullopt;
  for (element step : steps)
    if (std::string_view t; !step["type"].get(t) && t == "TemplateProcessing") return first_special(step);
  return std::nullopt;
}

bool wants_bos(const TokenizerConfig& config, const std::optional<std::string>& template_bos) {
  if (config.add_bos_token) return *config.add_bos_token;
  if (template_bos) return true;
  return !config.present || config.bos_token.has_value();
}

}  // namespace pagedserve::model
