#pragma once
// Streamed text is cut anywhere, also inside a marker such as "</think>".
// A parser holds back the end of a delta that could still become a marker
// and decides when the next delta (or the end of the output) arrives.

#include <cstddef>
#include <string>
#include <string_view>

namespace pagedserve::parsers {

// The length of the longest suffix of `text` that is a proper prefix of
// `marker` (0 when no suffix can start it).
std::size_t partial_marker_suffix(std::string_view text, std::string_view marker);

// Splits `buffer` at the first `marker`: what comes before it goes to
// `before`, the marker is dropped and true is returned with the rest left in
// `buffer`. Without one, all but a possible partial marker at the end goes
// to `before` and false is returned.
bool take_until_marker(std::string& buffer, std::string_view marker, std::string& before);

// `text` without leading ASCII whitespace.
std::string_view trim_left(std::string_view text);
std::string_view trim(std::string_view text);

}  // namespace pagedserve::parsers
