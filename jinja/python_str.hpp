#pragma once
// Python's str operations on UTF-8 text: Python indexes, slices and counts
// code points, not bytes, and its whitespace is Unicode's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::jinja::pystr {

std::u32string decode(std::string_view utf8);  // invalid bytes become U+FFFD
std::string encode(const std::u32string& text);
std::size_t length(std::string_view utf8);  // in code points

bool is_space(char32_t c);  // str.isspace()

// str.strip/lstrip/rstrip: Unicode whitespace, or any of `chars`.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(): on whitespace runs, or on `sep`; at most `maxsplit` splits (-1: all).
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, long maxsplit);
// str.splitlines(): on \n, \r\n, \r and the other line boundaries Python knows.
std::vector<std::string> splitlines(std::string_view s);
std::string replace(std::string_view s, std::string_view from, std::string_view to, long count);

// Case mapping for ASCII letters; other text is returned unchanged only if it
// has no letters whose case Python would change, else std::nullopt.
std::optional<std::string> upper(std::string_view s);
std::optional<std::string> lower(std::string_view s);
std::optional<std::string> capitalize(std::string_view s);
std::optional<std::string> title(std::string_view s);  // str.title()

// repr() of a str: single quotes unless the text has ' and no ".
std::string repr(std::string_view s);

}  // namespace pagedserve::jinja::pystr
