#include "jinja/template.hpp"

#include "jinja/parser.hpp"

namespace pagedserve::jinja {

Template::Template(const std::string& source) : body_(parse_template(source)) {}

std::string Template::render(const Dict& variables, const RenderOptions& options) const {
  return Interpreter(options).render(body_, variables);
}

}  // namespace pagedserve::jinja
