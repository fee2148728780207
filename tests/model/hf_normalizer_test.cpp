// Normalizers on their own, NFC included (ICU's tables, checked on
// characters whose composed forms are known).

#include "model/hf_normalizer.hpp"

#include <catch2/catch.hpp>

using pagedserve::model::HfNormalizer;

namespace {

std::string normalize(const std::string& json, const std::string& text) {
  simdjson::dom::parser parser;
  return HfNormalizer(parser.parse(json).value()).apply(text);
}

}  // namespace

TEST_CASE("NFC composes what decomposed input spells out", "[normalizer]") {
  const std::string nfc = R"({"type": "NFC"})";
  CHECK(normalize(nfc, "cafe\xCC\x81") == "caf\xC3\xA9");                        // e + U+0301 -> é
  CHECK(normalize(nfc, "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB") == "\xED\x95\x9C");  // jamo -> 한
  CHECK(normalize(nfc, "\xEF\xAC\x81") == "\xEF\xAC\x81");                        // ﬁ stays (only NFKC folds it)
  CHECK(normalize(nfc, "bad \xC3 byte") == "bad \xC3 byte");                     // invalid UTF-8 is left alone
}

TEST_CASE("Prepend and Replace in a Sequence, as SentencePiece-style files use them", "[normalizer]") {
  const std::string sp = R"({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})";
  CHECK(normalize(sp, "hi  there") == "▁hi▁▁there");
  CHECK(normalize(sp, "").empty());  // nothing is prepended to empty text
  CHECK(normalize(R"({"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": "_"})", "a \t b") == "a_b");
}

TEST_CASE("unsupported normalizers are refused by name", "[normalizer]") {
  CHECK_THROWS_WITH(normalize(R"({"type": "NFKC"})", "x"), Catch::Contains("normalizer type NFKC is not supported"));
  CHECK_THROWS_WITH(normalize(R"({"type": "Sequence", "normalizers": [{"type": "BertNormalizer"}]})", "x"),
                    Catch::Contains("BertNormalizer"));
}
