#pragma once
// Reading GBNF and regular-expression text: code points, escapes and
// bracketed character classes, with errors that say where.

#include <cstdint>
#include <string>
#include <string_view>

#include "grammar/expr.hpp"

namespace pagedserve::grammar {

class TextCursor {
 public:
  TextCursor(std::string_view text, std::string what) : text_(text), what_(std::move(what)) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool eat(char c);
  void expect(char c);
  std::uint32_t next_codepoint();
  // After a backslash: the code point an escape stands for (\n, \xHH,
  // \uHHHH, \U00HHHHHH, or the character itself).
  std::uint32_t escape();
  // After '[': the class up to ']'. `regex` adds \d \w \s and their negations.
  CodepointSet char_class(bool regex);
  // A repetition count: decimal digits, at most 10000.
  int count();
  [[noreturn]] void fail(const std::string& why) const;
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }

 private:
  std::uint32_t hex(int digits);

  std::string_view text_;
  std::string what_;
  std::size_t pos_ = 0;
};

// \d \w \s (and upper case: their complements) for regex classes.
bool shorthand_class(char c, CodepointSet& out);

}  // namespace pagedserve::grammar
