#pragma once
// A Jinja template, parsed once and rendered many times: the chat templates
// of Hugging Face model directories, rendered byte for byte as jinja2 does
// under Hugging Face's settings (trim_blocks, lstrip_blocks, loop controls,
// tojson, raise_exception, strftime_now).
//
//   Template t(source);                       // TemplateError: refused, with line
//   std::string s = t.render(variables);      // RenderError: e.g. raise_exception

#include <string>

#include "jinja/ast.hpp"
#include "jinja/interpreter.hpp"
#include "jinja/lexer.hpp"
#include "jinja/value.hpp"

namespace pagedserve::jinja {

class Template {
 public:
  explicit Template(const std::string& source);

  std::string render(const Dict& variables, const RenderOptions& options = {}) const;

 private:
  Body body_;
};

}  // namespace pagedserve::jinja
