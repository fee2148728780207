// The JSON writer against simdjson's parser: whatever goes in comes back
// out (valid UTF-8 unchanged, invalid bytes as U+FFFD), and every output
// is valid JSON.

#include "net/json_writer.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

using pagedserve::net::json_quote;
using pagedserve::net::JsonWriter;

namespace {

// The string simdjson reads back from a JSON string literal.
std::string read_back(const std::string& literal) {
  simdjson::dom::parser parser;
  std::string_view s;
  REQUIRE(parser.parse(literal).get(s) == simdjson::SUCCESS);
  return std::string(s);
}

}  // namespace

TEST_CASE("json_quote escapes quotes, backslashes and control characters", "[json_writer]") {
  CHECK(json_quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_quote("line\nnext\ttab\rcr") == R"("line\nnext\ttab\rcr")");
  CHECK(json_quote(std::string("\x01\x1f\x7f", 3)) == R"("\u0001\u001f\u007f")");
  CHECK(json_quote(std::string("nul\0byte", 8)) == R"("nul\u0000byte")");
  for (int c = 0; c < 0x20; ++c) {
    const std::string s(1, static_cast<char>(c));
    CHECK(read_back(json_quote(s)) == s);
  }
}

TEST_CASE("json_quote keeps valid UTF-8 and replaces invalid bytes with U+FFFD", "[json_writer]") {
  const std::string valid = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD";
  CHECK(read_back(json_quote(valid)) == valid);
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(read_back(json_quote("a\xFF" "b")) == "a" + fffd + "b");
  CHECK(read_back(json_quote("\xC3")) == fffd);                       // truncated sequence
  CHECK(read_back(json_quote("\xC0\xAF")) == fffd + fffd);            // overlong
  CHECK(read_back(json_quote("\xED\xA0\x80")) == fffd + fffd + fffd);  // surrogate
  CHECK(read_back(json_quote("\xF4\x90\x80\x80")) == fffd + fffd + fffd + fffd);  // above U+10FFFF
}

TEST_CASE("random byte strings always give valid JSON that reads back as the valid parts", "[json_writer]") {
  std::mt19937 rng(7);
  simdjson::dom::parser parser;
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    const std::string literal = json_quote(s);
    std::string_view back;
    REQUIRE(parser.parse(literal).get(back) == simdjson::SUCCESS);
    // Pure ASCII printable input must round-trip exactly.
    bool ascii = true;
    for (unsigned char c : s) ascii &= c >= 0x20 && c < 0x7f;
    if (ascii) CHECK(back == s);
  }
}

TEST_CASE("the writer places commas and nests containers", "[json_writer]") {
  JsonWriter w;
  w.begin_object().field("a", 1).field("b", "two").key("c").begin_array().value(1.5).null().value(true);
  w.begin_object().end_object().end_array().key("d").int_array({1, 2, 3}).field("e", 1.0 / 0.0).end_object();
  CHECK(w.str() == R"({"a":1,"b":"two","c":[1.5,null,true,{}],"d":[1,2,3],"e":null})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(w.str()).get(doc) == simdjson::SUCCESS);
  CHECK(doc["d"].get_array().size() == 3);
}

TEST_CASE("doubles round-trip to float precision", "[json_writer]") {
  for (double v : {0.1, -3.25e-7, 123456.789, 1e30, -0.0}) {
    JsonWriter w;
    w.value(v);
    simdjson::dom::parser parser;
    double back = 0;
    REQUIRE(parser.parse(w.str()).get(back) == simdjson::SUCCESS);
    CHECK(back == Approx(v).epsilon(1e-8));
  }
}

TEST_CASE("a double with fewer significant digits is written as printf's %g writes it", "[json_writer]") {
  JsonWriter w;
  w.begin_array().value(5.0 / 6.0, 6).value(1.0, 6).value(1234567.0, 6).value(std::nan(""), 6).end_array();
  CHECK(w.str() == "[0.833333,1,1.23457e+06,null]");
}
