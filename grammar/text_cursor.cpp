#include "grammar/text_cursor.hpp"

namespace pagedserve::grammar {

bool TextCursor::eat(char c) {
  if (peek() != c || done()) return false;
  ++pos_;
  return true;
}

void TextCursor::expect(char c) {
  if (!eat(c)) fail(std::string("expected '") + c + "'");
}

void TextCursor::fail(const std::string& why) const {
  throw GrammarError(what_ + " at offset " + std::to_string(pos_) + ": " + why);
}

std::uint32_t TextCursor::next_codepoint() {
  if (done()) fail("unexpected end");
  const auto lead = static_cast<unsigned char>(text_[pos_++]);
  if (lead < 0x80) return lead;
  const int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : -1;
  if (extra < 0) fail("invalid UTF-8");
  std::uint32_t cp = lead & (0x3F >> extra);
  for (int i = 0; i < extra; ++i) {
    if (done() || (static_cast<unsigned char>(text_[pos_]) & 0xC0) != 0x80) fail("invalid UTF-8");
    cp = (cp << 6) | (static_cast<unsigned char>(text_[pos_++]) & 0x3F);
  }
  return cp;
}

std::uint32_t TextCursor::hex(int digits) {
  std::uint32_t v = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = peek();
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0 || done()) fail("expected a hexadecimal digit");
    v = v * 16 + static_cast<std::uint32_t>(d);
    ++pos_;
  }
  if (v > kMaxCodepoint) fail("code point out of range");
  return v;
}

std::uint32_t TextCursor::escape() {
  const std::uint32_t c = next_codepoint();
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case '0': return 0;
    case 'x': return hex(2);
    case 'u': return hex(4);
    case 'U': return hex(8);
    default: return c;
  }
}

int TextCursor::count() {
  int v = 0;
  if (!(peek() >= '0' && peek() <= '9')) fail("expected a repetition count");
  while (peek() >= '0' && peek() <= '9') {
    v = v * 10 + (peek() - '0');
    if (v > 10000) fail("repetition count above 10000");
    ++pos_;
  }
  return v;
}

bool shorthand_class(char c, CodepointSet& out) {
  CodepointSet s;
  switch (c) {
    case 'd': case 'D': s.add('0', '9'); break;
    case 'w': case 'W': s.add('0', '9').add('A', 'Z').add('a', 'z').add('_', '_'); break;
    case 's': case 'S': s.add(' ', ' ').add('\t', '\r').add(0xA0, 0xA0).add(0x2028, 0x2029).add(0xFEFF, 0xFEFF); break;
    default: return false;
  }
  s.normalize();
  if (c >= 'A' && c <= 'Z') s = s.complement();
  for (const auto& r : s.ranges) out.add(r.first, r.second);
  return true;
}

CodepointSet TextCursor::char_class(bool regex) {
  const bool negated = eat('^');
  CodepointSet set;
  while (!eat(']')) {
    if (done()) fail("unterminated character class");
    std::uint32_t lo;
    if (eat('\\')) {
      if (regex && shorthand_class(peek(), set)) {
        ++pos_;
        continue;
      }
      lo = escape();
    } else {
      lo = next_codepoint();
    }
    std::uint32_t hi = lo;
    if (peek() == '-' && peek(1) != ']' && peek(1) != '\0') {
      ++pos_;
      hi = eat('\\') ? escape() : next_codepoint();
      if (hi < lo) fail("character range out of order");
    }
    set.add(lo, hi);
  }
  set.normalize();
  return negated ? set.complement() : set;
}

}  // namespace pagedserve::grammar
