#include "model/utf8.hpp"

namespace pagedserve::model {

namespace {

std::size_t expected_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // a continuation byte or a lead that no valid character has
}

}  // namespace

std::size_t utf8_char_length(std::string_view s, std::size_t i) {
  const std::size_t n = expected_length(static_cast<unsigned char>(s[i]));
  if (n <= 1 || i + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  const std::uint32_t cp = utf8_decode_at(s, i);
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  const bool surrogate_or_too_big = (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF;
  return overlong || surrogate_or_too_big ? 1 : n;
}

std::uint32_t utf8_decode_at(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t n = expected_length(lead);
  if (n <= 1 || i + n > s.size()) return lead;
  std::uint32_t cp = lead & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

std::vector<std::string_view> utf8_characters(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_char_length(s, i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool utf8_valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_char_length(s, i);
    if (n == 1 && static_cast<unsigned char>(s[i]) >= 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace pagedserve::model
