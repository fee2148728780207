// The regex front end against std::regex (ECMAScript), a matcher nobody
// here wrote: for many patterns and random strings both agree on whether
// the whole string matches.

#include <catch2/catch.hpp>

#include <random>
#include <regex>

#include "grammar/constraint.hpp"
#include "grammar_test_util.hpp"

using pagedserve::testing::regex_match;

TEST_CASE("regex: whole-string matches agree with std::regex on random strings") {
  const std::vector<std::string> patterns = {
      "a*b",         "(ab|c)+d?",       "[a-c]{2,3}x",     "\\d{3}-\\d{2}",  "[^abc]+",     "(a|b)*abb",
      "x(?:yz)*",    "\\w+@\\w+\\.com", "a.c",             "[0-9a-f]{1,4}",  "(a{2}|b{3})+", "(?:a|b)c",
      "ab??c",       "\\s*\\S+\\s*",    "[-a]b",           "c{0,}d{1,}",     "a|",          "((a|b)(c|d))*"};
  const std::string alphabet = "abcdxyz0123456789-@. \t";
  std::mt19937 rng(7);
  for (const auto& p : patterns) {
    const std::regex reference(p, std::regex::ECMAScript);
    for (int i = 0; i < 400; ++i) {
      std::string s;
      const int len = std::uniform_int_distribution<int>(0, 8)(rng);
      for (int k = 0; k < len; ++k) s += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
      INFO("pattern " << p << " string '" << s << "'");
      CHECK(regex_match(p, s) == std::regex_match(s, reference));
    }
  }
}

TEST_CASE("regex: anchors at the ends, refusals by name elsewhere") {
  CHECK(regex_match("^ab$", "ab"));
  auto error_of = [](const std::string& text) { return pagedserve::testing::compile_error({"regex", text}); };
  CHECK_THAT(error_of("(a)\\1"), Catch::Contains("backreferences"));
  CHECK_THAT(error_of("a(?=b)"), Catch::Contains("lookaround"));
  CHECK_THAT(error_of("\\bword"), Catch::Contains("word boundaries"));
  CHECK_THAT(error_of("a^b"), Catch::Contains("anchors"));
  CHECK_THAT(error_of("(ab"), Catch::Contains("expected ')'"));
  CHECK_THAT(error_of("*a"), Catch::Contains("nothing to repeat"));
}

TEST_CASE("regex: long chains of optional repetitions compile and match; counts are bounded") {
  CHECK(regex_match("(a?){0,2000}b", "ab"));
  CHECK_FALSE(regex_match("(a?){0,2000}b", "abb"));
  CHECK_THAT(pagedserve::testing::compile_error({"regex", "a{0,20000}"}), Catch::Contains("above 10000"));
}
