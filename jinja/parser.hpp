#pragma once
// Parses template source into statements, following jinja2's grammar and
// operator precedence. Whatever this engine cannot render (tags such as
// include or extends, unknown filters, tests, functions or methods) is
// refused here with its line, so no template is ever rendered half right.

#include <string>

#include "jinja/ast.hpp"
#include "jinja/lexer.hpp"

namespace pagedserve::jinja {

// Throws TemplateError naming the line and the construct.
Body parse_template(const std::string& source);

}  // namespace pagedserve::jinja
