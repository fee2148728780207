#pragma once
// Splits template source into tokens the way jinja2's lexer does under
// Hugging Face's settings (trim_blocks and lstrip_blocks on): text, the
// `{{ }}` and `{% %}` delimiters, and the tokens of the expressions between
// them. Comments vanish. Whitespace control: `{%-`/`-%}` (and the `{{`,
// `{#` forms) strip all whitespace on that side; `{%+`/`+%}` turn
// lstrip_blocks/trim_blocks off for one tag.

#include <stdexcept>
#include <string>
#include <vector>

namespace pagedserve::jinja {

// A template jinja2 would not accept, or one using a construct this engine
// does not implement: the message names the line and the construct.
struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class TokenKind {
  text,
  variable_begin,  // {{
  variable_end,    // }}
  block_begin,     // {%
  block_end,       // %}
  name,
  string,
  integer,
  floating,
  op,  // punctuation and operators: ( ) [ ] { } . , : | ~ + - * / // % ** = == != < > <= >=
  end,
};

struct Token {
  TokenKind kind;
  std::string text;  // a string literal's value (escapes decoded), or the token as written
  int line;
};

std::vector<Token> tokenize(const std::string& source);

[[noreturn]] void fail_at(int line, const std::string& message);

}  // namespace pagedserve::jinja
