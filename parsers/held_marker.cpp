#include "parsers/held_marker.hpp"

#include <algorithm>

namespace pagedserve::parsers {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::size_t partial_marker_suffix(std::string_view text, std::string_view marker) {
  const std::size_t longest = std::min(text.size(), marker.empty() ? 0 : marker.size() - 1);
  for (std::size_t n = longest; n > 0; --n)
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  return 0;
}

bool take_until_marker(std::string& buffer, std::string_view marker, std::string& before) {
  const auto at = buffer.find(marker);
  if (at != std::string::npos) {
    before.append(buffer, 0, at);
    buffer.erase(0, at + marker.size());
    return true;
  }
  const std::size_t keep = partial_marker_suffix(buffer, marker);
  before.append(buffer, 0, buffer.size() - keep);
  buffer.erase(0, buffer.size() - keep);
  return false;
}

std::string_view trim_left(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  return text;
}

std::string_view trim(std::string_view text) {
  text = trim_left(text);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace pagedserve::parsers
