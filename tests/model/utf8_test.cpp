// UTF-8 helpers: valid characters, and every kind of bad byte counted alone.

#include "model/utf8.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::model;

TEST_CASE("characters are cut at UTF-8 boundaries; bad bytes stand alone", "[utf8]") {
  CHECK(utf8_characters("a\xC3\xA9\xE6\x9D\xB1\xF0\x9F\x98\x80") ==
        std::vector<std::string_view>{"a", "\xC3\xA9", "\xE6\x9D\xB1", "\xF0\x9F\x98\x80"});
  CHECK(utf8_characters("\xC3(") == std::vector<std::string_view>{"\xC3", "("});                // cut short
  CHECK(utf8_characters("\xC0\xAF").size() == 2);                                             // overlong
  CHECK(utf8_characters("\xED\xA0\x80").size() == 3);                                         // a surrogate
  CHECK(utf8_characters("\xF4\x90\x80\x80").size() == 4);                                     // past U+10FFFF
  CHECK(utf8_characters("\x80\xBF").size() == 2);                                             // lone continuations
}

TEST_CASE("encode and decode agree; validity is whole-string", "[utf8]") {
  for (std::uint32_t cp : {0x41u, 0xE9u, 0x2581u, 0x1F600u}) CHECK(utf8_decode_at(utf8_encode(cp), 0) == cp);
  CHECK(utf8_valid("caf\xC3\xA9"));
  CHECK_FALSE(utf8_valid("caf\xC3"));
}
