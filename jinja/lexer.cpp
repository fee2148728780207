#include "jinja/lexer.hpp"

#include <cctype>
#include <cstdlib>

#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

void fail_at(int line, const std::string& message) {
  throw TemplateError("template line " + std::to_string(line) + ": " + message);
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// jinja2 reads the source with every line break as "\n" and, by default,
// without its one final newline.
std::string normalize_newlines(const std::string& source) {
  std::string out;
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Decodes a string literal's body as Python's unicode-escape codec does.
std::string unescape(const std::string& body, int line) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out += body[i];
      continue;
    }
    const char c = body[++i];
    auto code_point = [&](std::size_t digits) {
      if (i + digits >= body.size()) fail_at(line, "truncated escape in a string literal");
      const std::string hex = body.substr(i + 1, digits);
      for (char h : hex)
        if (!std::isxdigit(static_cast<unsigned char>(h))) fail_at(line, "bad escape in a string literal");
      i += digits;
      out += pystr::encode(std::u32string(1, static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16))));
    };
    switch (c) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': code_point(2); break;
      case 'u': code_point(4); break;
      case 'U': code_point(8); break;
      case 'N': fail_at(line, "named escapes (\\N{...}) in string literals are not supported");
      default:
        if (c >= '0' && c <= '7') fail_at(line, "octal escapes in string literals are not supported");
        out += '\\';
        out += c;
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(const std::string& source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_text_and_tag();
    tokens_.push_back({TokenKind::end, "", line_});
    return std::move(tokens_);
  }

 private:
  const std::string src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;

  void advance(std::size_t n) {
    for (std::size_t k = 0; k < n && pos_ < src_.size(); ++k, ++pos_) line_ += src_[pos_] == '\n';
  }

  std::size_t next_tag(std::size_t from) const {
    for (std::size_t p = src_.find('{', from); p != std::string::npos; p = src_.find('{', p + 1))
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) return p;
    return std::string::npos;
  }

  void lex_text_and_tag() {
    const std::size_t tag = next_tag(pos_);
    std::string text = src_.substr(pos_, tag == std::string::npos ? std::string::npos : tag - pos_);
    if (tag == std::string::npos) {
      push_text(std::move(text));
      advance(src_.size() - pos_);
      return;
    }
    const char kind = src_[tag + 1];
    const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
    if (sign == '-') {
      text = pystr::strip(text, std::nullopt, false, true);
    } else if (sign != '+' && kind != '{') {
      const std::size_t line_start = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      bool blank = line_start > 0 || line_starting_;
      for (std::size_t i = line_start; i < text.size() && blank; ++i) blank = is_ws(text[i]);
      if (blank) text.resize(line_start);
    }
    const int text_line = line_;
    advance(tag - pos_);
    push_text(std::move(text), text_line);
    advance(sign == '-' || sign == '+' ? 3 : 2);
    if (kind == '#') return lex_comment();
    const bool variable = kind == '{';
    tokens_.push_back({variable ? TokenKind::variable_begin : TokenKind::block_begin, variable ? "{{" : "{%", line_});
    lex_expression(variable ? '}' : '%');
  }

  void push_text(std::string text, int line = 0) {
    if (!text.empty()) tokens_.push_back({TokenKind::text, std::move(text), line ? line : line_});
  }

  // After a tag's closing delimiter: `-` strips all whitespace, trim_blocks
  // one newline after a block or comment.
  void after_tag_end(char sign, bool block) {
    if (sign == '-') {
      std::size_t n = 0;
      while (pos_ + n < src_.size() && is_ws(src_[pos_ + n])) ++n;
      advance(n);
      line_starting_ = n > 0 && src_[pos_ - 1] == '\n';
    } else if (sign != '+' && block && pos_ < src_.size() && src_[pos_] == '\n') {
      advance(1);
      line_starting_ = true;
    } else {
      line_starting_ = false;
    }
  }

  void lex_comment() {
    const int start = line_;
    const std::size_t close = src_.find("#}", pos_);
    if (close == std::string::npos) fail_at(start, "a comment {# is never closed");
    const char sign = close > pos_ && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
    advance(close + 2 - pos_);
    after_tag_end(sign, true);
  }

  // Whether a closing delimiter (optionally signed) starts at pos_; sets
  // `sign` and consumes it.
  bool close_delimiter(char closer, int depth) {
    if (depth > 0) return false;
    char sign = '\0';
    std::size_t at = pos_;
    if (src_[at] == '-' || src_[at] == '+') sign = src_[at++];
    if (at + 1 >= src_.size()) return false;
    if (src_[at] != closer || src_[at + 1] != '}') return false;
    if (sign == '+' && closer == '}') return false;
    tokens_.push_back({closer == '}' ? TokenKind::variable_end : TokenKind::block_end, "", line_});
    advance(at + 2 - pos_);
    after_tag_end(sign, closer == '%');
    return true;
  }

  void lex_expression(char closer) {
    const int start = line_;
    int depth = 0;
    while (true) {
      while (pos_ < src_.size() && is_ws(src_[pos_])) advance(1);
      if (pos_ >= src_.size()) fail_at(start, std::string("a tag opened here is never closed with ") + closer + "}");
      if (close_delimiter(closer, depth)) return;
      const char c = src_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        lex_name();
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(depth);
      }
    }
  }

  void lex_name() {
    std::size_t n = 0;
    while (pos_ + n < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_ + n])) || src_[pos_ + n] == '_')) ++n;
    tokens_.push_back({TokenKind::name, src_.substr(pos_, n), line_});
    advance(n);
  }

  void lex_number() {
    auto digits_at = [&](std::size_t p) {
      std::size_t n = 0;
      while (p + n < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[p + n])) || src_[p + n] == '_')) ++n;
      return n;
    };
    std::size_t end = pos_ + digits_at(pos_);
    bool is_float = false;
    const bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::op && tokens_.back().text == ".";
    if (!after_dot && end + 1 < src_.size() && src_[end] == '.' && std::isdigit(static_cast<unsigned char>(src_[end + 1]))) {
      end += 1 + digits_at(end + 1);
      is_float = true;
    }
    if (!after_dot && end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      std::size_t p = end + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (const std::size_t n = digits_at(p); n > 0) {
        end = p + n;
        is_float = true;
      }
    }
    std::string text;
    for (std::size_t p = pos_; p < end; ++p)
      if (src_[p] != '_') text += src_[p];
    tokens_.push_back({is_float ? TokenKind::floating : TokenKind::integer, text, line_});
    advance(end - pos_);
  }

  void lex_string(char quote) {
    const int start = line_;
    std::size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) fail_at(start, "a string literal is never closed");
    tokens_.push_back({TokenKind::string, unescape(src_.substr(pos_ + 1, p - pos_ - 1), start), start});
    advance(p + 1 - pos_);
  }

  void lex_operator(int& depth) {
    static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : two)
      if (src_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({TokenKind::op, op, line_});
        advance(2);
        return;
      }
    const char c = src_[pos_];
    if (std::string("()[]{}.,:|~+-*/%=<>").find(c) == std::string::npos)
      fail_at(line_, std::string("unexpected character '") + c + "' in an expression");
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    tokens_.push_back({TokenKind::op, std::string(1, c), line_});
    advance(1);
  }
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(source).run(); }

}  // namespace pagedserve::jinja
