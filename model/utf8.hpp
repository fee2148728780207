#pragma once
// Small UTF-8 helpers shared by the tokenizer's stages. Invalid bytes are
// never an error: each one counts as a character of its own.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/utf8_encode.hpp"

namespace pagedserve::model {

// The UTF-8 encoding of code point `cp`.
using text::utf8_encode;

// Bytes in the character starting at s[i] (1 for an invalid or cut byte).
std::size_t utf8_char_length(std::string_view s, std::size_t i);

// The code point of the character starting at s[i], or the byte itself
// when it does not start a valid character.
std::uint32_t utf8_decode_at(std::string_view s, std::size_t i);

// `s` cut into characters.
std::vector<std::string_view> utf8_characters(std::string_view s);

// Whether `s` is well-formed UTF-8.
bool utf8_valid(std::string_view s);

}  // namespace pagedserve::model
