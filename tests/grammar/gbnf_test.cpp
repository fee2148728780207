#include <catch2/catch.hpp>

#include "grammar/constraint.hpp"
#include "grammar_test_util.hpp"

using pagedserve::testing::gbnf_match;
using pagedserve::grammar::GrammarError;

TEST_CASE("gbnf: literals, classes, groups and repetitions match exactly their language") {
  const std::string g = R"g(
    root ::= "x=" num ("," num)* | "empty"   # a comment
    num  ::= "-"? [1-9] [0-9]{0,2}
  )g";
  CHECK(gbnf_match(g, "x=1"));
  CHECK(gbnf_match(g, "x=-12,999,5"));
  CHECK(gbnf_match(g, "empty"));
  CHECK_FALSE(gbnf_match(g, "x=1000"));
  CHECK_FALSE(gbnf_match(g, "x=01"));
  CHECK_FALSE(gbnf_match(g, "x=1,"));
  CHECK_FALSE(gbnf_match(g, "x="));
  CHECK_FALSE(gbnf_match(g, ""));
}

TEST_CASE("gbnf: recursion, negated classes, non-ASCII characters and the any character") {
  const std::string g = R"g(root ::= "(" inner ")"
inner ::= ( [^()] | "(" inner ")" )*
)g";
  CHECK(gbnf_match(g, "(a(b)(c(d)))"));
  CHECK(gbnf_match(g, "(héllo ✓ 😀)"));
  CHECK_FALSE(gbnf_match(g, "(a(b)"));
  CHECK(gbnf_match("root ::= . . \"!\"", "é😀!"));
  CHECK_FALSE(gbnf_match("root ::= [^a-z]", "q"));
  CHECK(gbnf_match("root ::= [\\u00e0-\\u00ff]+", "àÿé"));
  CHECK(gbnf_match("root ::= \"\\n\\t\\\"\"", "\n\t\""));
}

TEST_CASE("gbnf: bad grammars are refused with the problem named") {
  auto error_of = [](const std::string& text) { return pagedserve::testing::compile_error({"grammar", text}); };
  CHECK_THAT(error_of("root ::= item\n"), Catch::Contains("undefined rule item"));
  CHECK_THAT(error_of("root ::= root \"a\" | \"b\""), Catch::Contains("left-recursive"));
  CHECK_THAT(error_of("root ::= \"x\"? root | \"y\""), Catch::Contains("left-recursive"));
  CHECK_THAT(error_of("root ::= \"a\" root"), Catch::Contains("accepts no string"));
  CHECK_THAT(error_of("root ::= [a-z"), Catch::Contains("unterminated"));
  CHECK_THAT(error_of("start ::= \"a\""), Catch::Contains("no rule named root"));
  CHECK_THAT(error_of(""), Catch::Contains("no rules"));
  CHECK_THAT(error_of("root ::= \"a\"{3,1}"), Catch::Contains("n < m"));
}
