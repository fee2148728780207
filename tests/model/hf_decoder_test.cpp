// Decoders one token at a time, including what changes for the first token.

#include "model/hf_decoder.hpp"

#include <catch2/catch.hpp>

using pagedserve::model::HfDecoder;

namespace {

HfDecoder decoder(const std::string& json) {
  simdjson::dom::parser parser;
  return HfDecoder(parser.parse(json).value());
}

}  // namespace

TEST_CASE("ByteLevel turns mapped characters back into bytes", "[decoder]") {
  auto d = decoder(R"({"type": "ByteLevel"})");
  CHECK(d.decode("ĠcafÃ©", false) == " café");
  CHECK(d.decode("Ċ", true) == "\n");
  CHECK(d.decode("<|eot|>", false) == "<|eot|>");
}

TEST_CASE("the SentencePiece chain: marks to spaces, byte tokens, strip at the start", "[decoder]") {
  auto d = decoder(R"({"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  CHECK(d.decode("▁hello", true) == "hello");
  CHECK(d.decode("▁hello", false) == " hello");
  CHECK(d.decode("<0xC3>", false) == "\xC3");
  CHECK(d.decode("<0xZZ>", false) == "<0xZZ>");
}

TEST_CASE("Metaspace drops the first token's leading space unless it never prepends", "[decoder]") {
  CHECK(decoder(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})").decode("▁a▁b", true) == "a b");
  CHECK(decoder(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"})").decode("▁a", true) == " a");
}

TEST_CASE("without a decoder, tokens are joined by a space", "[decoder]") {
  simdjson::dom::parser parser;
  const HfDecoder none(parser.parse(std::string_view("null")).value());
  CHECK(none.decode("ab", true) == "ab");
  CHECK(none.decode("cd", false) == " cd");
}

TEST_CASE("unsupported decoders are refused by name", "[decoder]") {
  CHECK_THROWS_WITH(decoder(R"({"type": "WordPiece"})"), Catch::Contains("decoder type WordPiece"));
  CHECK_THROWS_WITH(decoder(R"({"type": "Strip", "content": " ", "start": 0, "stop": 1})"), Catch::Contains("stop"));
}
