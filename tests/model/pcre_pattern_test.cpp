// PCRE2 as tokenizer.json patterns need it: Unicode classes, lookahead,
// literal text, invalid UTF-8 subjects, and errors that say where.

#include "model/pcre_pattern.hpp"

#include <catch2/catch.hpp>

using pagedserve::model::PcrePattern;

namespace {

std::vector<std::string> matches(const PcrePattern& p, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& m : p.find_all(text)) out.push_back(text.substr(m.begin, m.end - m.begin));
  return out;
}

}  // namespace

TEST_CASE("Unicode classes and the \\s+(?!\\S) lookahead", "[pcre]") {
  const PcrePattern words(R"(\p{L}+|\p{N}|\s+(?!\S)|\s+)", false);
  CHECK(matches(words, "東京 ٣x\u3000\u3000y") == std::vector<std::string>{"東京", " ", "٣", "x", "\u3000", "\u3000", "y"});
  CHECK(matches(PcrePattern("(?i:'s|'ll)", false), "it'S we'LL") == std::vector<std::string>{"'S", "'LL"});
}

TEST_CASE("literal patterns; invalid UTF-8 never matches and never fails", "[pcre]") {
  CHECK(matches(PcrePattern("a.b", true), "a.b axb") == std::vector<std::string>{"a.b"});
  CHECK(matches(PcrePattern(R"(\p{L}+)", false), "ab\xFF\xC3" "cd") == std::vector<std::string>{"ab", "cd"});
  CHECK(matches(PcrePattern("x*", false), "axxb") == std::vector<std::string>{"xx"});  // empty matches are skipped
  CHECK_THROWS_WITH(PcrePattern("(?<", false), Catch::Contains("does not compile at offset"));
}
