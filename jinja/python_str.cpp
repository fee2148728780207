#include "jinja/python_str.hpp"

#include <cstdio>

#include "text/utf8_encode.hpp"

namespace pagedserve::jinja::pystr {

namespace {

// How many bytes the UTF-8 sequence starting with `b` takes (0: invalid lead).
int sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b >> 5) == 0x6) return 2;
  if ((b >> 4) == 0xE) return 3;
  if ((b >> 3) == 0x1E) return 4;
  return 0;
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

// Whether Python's case mappings leave `c` alone: ASCII non-letters and the
// scripts and symbol blocks that have no case. Anything else is refused
// rather than mapped wrong.
bool caseless(char32_t c) {
  if (c < 0x80) return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  return (c >= 0xA0 && c <= 0xBF && c != 0xB5 && c != 0xAA && c != 0xBA) || c == 0xD7 || c == 0xF7 ||
         (c >= 0x2000 && c <= 0x206F) || (c >= 0x2190 && c <= 0x23FF) || (c >= 0x2500 && c <= 0x27BF) ||
         (c >= 0x2900 && c <= 0x2BFF) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7FF) ||
         (c >= 0x1F000 && c <= 0x1FAFF);
}

bool ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char32_t to_upper(char32_t c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
char32_t to_lower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// Maps each code point with `f(c, previous_was_letter)`, or nullopt when the
// text has a cased letter outside ASCII.
template <class F>
std::optional<std::string> map_case(std::string_view s, F f) {
  std::u32string text = decode(s);
  bool after_letter = false;
  for (char32_t& c : text) {
    if (!ascii_letter(c) && !caseless(c)) return std::nullopt;
    const bool letter = ascii_letter(c);
    c = f(c, after_letter);
    after_letter = letter;
  }
  return encode(text);
}

}  // namespace

std::u32string decode(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int n = sequence_length(b);
    if (n == 0 || i + n > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t c = n == 1 ? b : (b & (0x7F >> n));
    for (int k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

std::string encode(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) pagedserve::text::append_utf8(out, c);
  return out;
}

std::size_t length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char b : s) n += (b & 0xC0) != 0x80;
  return n;
}

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  const std::u32string text = decode(s);
  const std::u32string set = chars ? decode(*chars) : std::u32string();
  auto drop = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : is_space(c); };
  std::size_t b = 0, e = text.size();
  while (left && b < e && drop(text[b])) ++b;
  while (right && e > b && drop(text[e - 1])) --e;
  return encode(text.substr(b, e - b));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, long maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    std::size_t start = 0;
    for (std::size_t hit; (maxsplit < 0 || static_cast<long>(parts.size()) < maxsplit) &&
                          (hit = s.find(*sep, start)) != std::string_view::npos;
         start = hit + sep->size())
      parts.emplace_back(s.substr(start, hit - start));
    parts.emplace_back(s.substr(start));
    return parts;
  }
  const std::u32string text = decode(s);
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    if (maxsplit >= 0 && static_cast<long>(parts.size()) == maxsplit) {
      std::size_t e = text.size();
      while (e > i && is_space(text[e - 1])) --e;
      parts.push_back(encode(text.substr(i, e - i)));
      break;
    }
    std::size_t j = i;
    while (j < text.size() && !is_space(text[j])) ++j;
    parts.push_back(encode(text.substr(i, j - i)));
    i = j;
  }
  return parts;
}

std::vector<std::string> splitlines(std::string_view s) {
  const std::u32string text = decode(s);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_line_break(text[i])) continue;
    lines.push_back(encode(text.substr(start, i - start)));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(encode(text.substr(start)));
  return lines;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, long count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` around every code point
    const std::u32string text = decode(s);
    long n = 0;
    for (char32_t c : text) {
      if (count < 0 || n++ < count) out += to;
      out += encode(std::u32string(1, c));
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  std::size_t start = 0;
  for (long n = 0; count < 0 || n < count; ++n) {
    const std::size_t hit = s.find(from, start);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(start, hit - start)).append(to);
    start = hit + from.size();
  }
  return out.append(s.substr(start));
}

std::optional<std::string> upper(std::string_view s) {
  return map_case(s, [](char32_t c, bool) { return to_upper(c); });
}

std::optional<std::string> lower(std::string_view s) {
  return map_case(s, [](char32_t c, bool) { return to_lower(c); });
}

std::optional<std::string> capitalize(std::string_view s) {
  bool first = true;
  return map_case(s, [&first](char32_t c, bool) {
    const char32_t out = first ? to_upper(c) : to_lower(c);
    first = false;
    return out;
  });
}

std::optional<std::string> title(std::string_view s) {
  return map_case(s, [](char32_t c, bool after_letter) { return after_letter ? to_lower(c) : to_upper(c); });
}

std::string repr(std::string_view s) {
  const bool double_quoted = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char quote = double_quoted ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : decode(s)) {
    char buf[16];
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || c == 0xAD) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c == 0x2028 || c == 0x2029 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F ||
               c == 0x205F || c == 0x3000 || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
               (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xD800 && c <= 0xDFFF)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += encode(std::u32string(1, c));
    }
  }
  return out + quote;
}

}  // namespace pagedserve::jinja::pystr
