#include <catch2/catch.hpp>

#include "grammar/constraint.hpp"
#include "grammar_test_util.hpp"

using pagedserve::testing::full_match;
using pagedserve::testing::schema_match;

namespace {
std::string error_of(const std::string& schema) { return pagedserve::testing::compile_error({"json_schema", schema}); }
}  // namespace

TEST_CASE("json schema: objects with required and optional properties in order") {
  const std::string s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":3},
    "c":{"type":"boolean"}},"required":["b"],"additionalProperties":false})";
  CHECK(schema_match(s, R"({"b":"xy"})"));
  CHECK(schema_match(s, R"({"a":-5, "b":"xyz","c":true})"));
  CHECK(schema_match(s, R"({"b":"","c":false})"));
  CHECK_FALSE(schema_match(s, R"({"a":1})"));
  CHECK_FALSE(schema_match(s, R"({"b":"wxyz"})"));
  CHECK_FALSE(schema_match(s, R"({"b":"x","a":1})"));
  CHECK_FALSE(schema_match(s, R"({,"b":"x"})"));
  CHECK_FALSE(schema_match(s, R"({"b":"x","d":1})"));
}

TEST_CASE("json schema: arrays, enums, const, type lists, anyOf and $ref recursion") {
  CHECK(schema_match(R"({"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3})", "[1.5,-2e10]"));
  CHECK_FALSE(schema_match(R"({"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3})", "[1]"));
  CHECK_FALSE(schema_match(R"({"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3})", "[1,2,3,4]"));
  CHECK(schema_match(R"({"enum":["red",3,null,{"k":[1]}]})", R"({"k":[1]})"));
  CHECK_FALSE(schema_match(R"({"enum":["red",3]})", "4"));
  CHECK(schema_match(R"({"const":"x\"y"})", R"("x\"y")"));
  CHECK(schema_match(R"({"type":["string","null"]})", "null"));
  CHECK(schema_match(R"({"anyOf":[{"type":"integer"},{"type":"boolean"}]})", "true"));
  const std::string tree = R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
    "v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}}})";
  CHECK(schema_match(tree, R"({"v":1,"kids":[{"v":2},{"v":3,"kids":[]}]})"));
  CHECK_FALSE(schema_match(tree, R"({"v":1,"kids":[{}]})"));
}

TEST_CASE("json schema: patterns inside strings, extra properties that cannot shadow listed ones") {
  CHECK(schema_match(R"({"type":"string","pattern":"^[a-z]+-\\d{2}$"})", R"("ab-12")"));
  CHECK_FALSE(schema_match(R"({"type":"string","pattern":"^[a-z]+-\\d{2}$"})", R"("ab-1")"));
  CHECK(schema_match(R"({"type":"string","pattern":"b+"})", R"("abbc")"));
  const std::string open = R"({"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":{"type":"boolean"}})";
  CHECK(schema_match(open, R"({"id":1,"idx":true,"i":false})"));
  CHECK_FALSE(schema_match(open, R"({"id":1,"id":true})"));
  CHECK(full_match({"json_object", ""}, R"({"a":[1,{"b":null}], "c":"\u00e9"})"));
  CHECK_FALSE(full_match({"json_object", ""}, "[1]"));
}

TEST_CASE("json schema: unsupported keywords and bad schemas are refused by name") {
  CHECK_THAT(error_of(R"({"type":"integer","minimum":3})"), Catch::Contains("unsupported JSON Schema keyword 'minimum' at #"));
  CHECK_THAT(error_of(R"({"type":"object","properties":{"a":{"format":"email"}}})"),
             Catch::Contains("'format' at #/properties/a"));
  CHECK_THAT(error_of(R"({"$ref":"#/$defs/missing"})"), Catch::Contains("points nowhere"));
  CHECK_THAT(error_of(R"({"type":"strin"})"), Catch::Contains("unknown type 'strin'"));
  CHECK_THAT(error_of("{"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of("false"), Catch::Contains("accepts no value"));
  CHECK_THAT(error_of(R"({"type":"string","minLength":5,"maxLength":2})"), Catch::Contains("maxLength is below minLength"));
}
