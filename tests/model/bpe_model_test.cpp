// The BPE model alone: merge order, what happens to characters outside the
// vocabulary, ignore_merges, both merge notations, and the time a long
// piece takes (a quadratic merge loop would take minutes on it).

#include "model/bpe_model.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using pagedserve::model::BpeModel;
using Ids = std::vector<std::int32_t>;

namespace {

Ids encode(const std::string& model_json, const std::string& piece) {
  simdjson::dom::parser parser;
  BpeModel model(parser.parse(model_json).value());
  Ids out;
  model.encode(piece, out);
  return out;
}

}  // namespace

TEST_CASE("merges apply lowest rank first, leftmost among equals", "[bpe]") {
  // "aaa": (a,a) at 0 and at 1 have one rank; leftmost wins -> aa a.
  const std::string m = R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "aa": 2, "ab": 3, "aab": 4}, "merges": ["a a", "a b", "aa b"]})";
  CHECK(encode(m, "aaa") == Ids{2, 0});
  // "aab": (a,a) rank 0 before (a,b) rank 1 -> aa b -> aab.
  CHECK(encode(m, "aab") == Ids{4});
  // "abab": no (b,a) merge -> ab ab.
  CHECK(encode(m, "abab") == Ids{3, 3});
}

TEST_CASE("merges may be written as [a, b] pairs, which allow spaces", "[bpe]") {
  const std::string m = R"({"type": "BPE", "vocab": {"a": 0, " ": 1, "a ": 2}, "merges": [["a", " "]]})";
  CHECK(encode(m, "a a") == Ids{2, 0});
}

TEST_CASE("characters outside the vocabulary: bytes, unk, fused unk or nothing", "[bpe]") {
  const std::string bytes = R"({"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "<0xC3>": 1, "<0xA9>": 2, "x": 3}, "merges": []})";
  CHECK(encode(bytes, "x\xC3\xA9") == Ids{3, 1, 2});
  CHECK(encode(bytes, "\xE2\x82\xAC") == Ids{0});  // euro sign: its bytes are not all there
  const std::string unk = R"({"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "vocab": {"<unk>": 0, "x": 1}, "merges": []})";
  CHECK(encode(unk, "yzxy") == Ids{0, 1, 0});
  const std::string unfused = R"({"type": "BPE", "unk_token": "<unk>", "vocab": {"<unk>": 0, "x": 1}, "merges": []})";
  CHECK(encode(unfused, "yzx") == Ids{0, 0, 1});
  const std::string none = R"({"type": "BPE", "vocab": {"x": 0}, "merges": []})";
  CHECK(encode(none, "yxz") == Ids{0});
}

TEST_CASE("ignore_merges takes a whole piece found in the vocabulary", "[bpe]") {
  const std::string base = R"("vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": ["a b"])";
  CHECK(encode(R"({"type": "BPE", )" + base + "}", "abc") == Ids{3, 2});
  CHECK(encode(R"({"type": "BPE", "ignore_merges": true, )" + base + "}", "abc") == Ids{4});
}

TEST_CASE("unsupported BPE settings and other models are refused by name", "[bpe]") {
  CHECK_THROWS_WITH(encode(R"({"type": "WordPiece", "vocab": {}})", "x"), Catch::Contains("model type WordPiece"));
  CHECK_THROWS_WITH(encode(R"({"type": "Unigram", "vocab": []})", "x"), Catch::Contains("model type Unigram"));
  CHECK_THROWS_WITH(encode(R"({"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []})", "x"), Catch::Contains("dropout"));
  CHECK_THROWS_WITH(encode(R"({"type": "BPE", "continuing_subword_prefix": "##", "vocab": {}, "merges": []})", "x"),
                    Catch::Contains("continuing_subword_prefix"));
  CHECK_THROWS_WITH(encode(R"({"type": "BPE", "unk_token": "<u>", "vocab": {"a": 0}, "merges": []})", "x"),
                    Catch::Contains("unk_token <u>"));
}

TEST_CASE("a 100 KB piece without spaces merges in well under a second", "[bpe]") {
  // Merges build "ab" and then ever longer runs of it, so nearly every
  // position of the piece takes part in a merge several times.
  std::string vocab = R"("a": 0, "b": 1, "ab": 2, "abab": 3, "abababab": 4)";
  const std::string m = R"({"type": "BPE", "vocab": {)" + vocab + R"(}, "merges": ["a b", "ab ab", "abab abab"]})";
  std::string piece;
  while (piece.size() < 100 * 1024) piece += "ab";
  simdjson::dom::parser parser;
  BpeModel model(parser.parse(m).value());
  Ids out;
  const auto start = std::chrono::steady_clock::now();
  model.encode(piece, out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(out == Ids(piece.size() / 8, 4));
  CHECK(seconds < 1.0);
}
