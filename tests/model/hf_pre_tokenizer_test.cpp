// Pre-tokenizers on their own: pieces worked out by hand from the
// declarations (GPT-2's byte map: space is "Ġ", newline "Ċ").

#include "model/hf_pre_tokenizer.hpp"

#include <catch2/catch.hpp>

using pagedserve::model::HfPreTokenizer;
using Pieces = std::vector<std::string>;

namespace {

Pieces pieces(const std::string& json, const std::string& text, bool at_start = true) {
  simdjson::dom::parser parser;
  HfPreTokenizer pre(parser.parse(json).value());
  Pieces out;
  for (const auto& p : pre.apply({text, at_start})) out.push_back(p.text);
  return out;
}

std::string split(const std::string& regex, const std::string& behavior) {
  return R"({"type": "Split", "pattern": {"Regex": ")" + regex + R"("}, "behavior": ")" + behavior + R"(", "invert": false})";
}

}  // namespace

TEST_CASE("Split runs its regex with Unicode classes and lookahead", "[pre_tokenizer]") {
  // \s+(?!\S) leaves the last space of a run to the word after it.
  const std::string words = split(R"( ?\\p{L}+|\\p{N}{1,3}|\\s+(?!\\S)|\\s+)", "Isolated");
  CHECK(pieces(words, "héllo   wörld 12345") == Pieces{"héllo", "  ", " wörld", " ", "123", "45"});
  CHECK(pieces(words, "東京 ١٢") == Pieces{"東京", " ", "١٢"});
  CHECK(pieces(split("-", "Removed"), "a-b--c") == Pieces{"a", "b", "c"});
  CHECK(pieces(split("-", "MergedWithPrevious"), "a-b--c") == Pieces{"a-", "b-", "-", "c"});
  CHECK(pieces(split("-", "MergedWithNext"), "a-b--c") == Pieces{"a", "-b", "-", "-c"});
  CHECK(pieces(split("-", "Contiguous"), "a-b--c") == Pieces{"a", "-", "b", "--", "c"});
  CHECK_THROWS_WITH(pieces(split("(", "Isolated"), "x"), Catch::Contains("does not compile"));
}

TEST_CASE("ByteLevel maps bytes to characters, with GPT-2's split and a prefix space", "[pre_tokenizer]") {
  CHECK(pieces(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})", "it's 42\n") ==
        Pieces{"it", "'s", "Ġ42", "Ċ"});
  CHECK(pieces(R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": false})", "hi é") == Pieces{"ĠhiĠÃ©"});
}

TEST_CASE("Digits isolates numbers, one by one or in runs", "[pre_tokenizer]") {
  CHECK(pieces(R"({"type": "Digits", "individual_digits": true})", "a12b") == Pieces{"a", "1", "2", "b"});
  CHECK(pieces(R"({"type": "Digits", "individual_digits": false})", "a12b") == Pieces{"a", "12", "b"});
}

TEST_CASE("Metaspace marks spaces, prepends by its scheme, and splits before marks", "[pre_tokenizer]") {
  const std::string always = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true})";
  CHECK(pieces(always, "hi  there") == Pieces{"▁hi", "▁", "▁there"});
  CHECK(pieces(always, "x", false) == Pieces{"▁x"});
  const std::string first = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false})";
  CHECK(pieces(first, "a b") == Pieces{"▁a▁b"});
  CHECK(pieces(first, "a b", false) == Pieces{"a▁b"});  // text after an added token
  const std::string never = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": true})";
  CHECK(pieces(never, "a b") == Pieces{"a", "▁b"});
}

TEST_CASE("a Sequence runs its steps in order; unknown types are refused by name", "[pre_tokenizer]") {
  const std::string seq = R"({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})";
  CHECK(pieces(seq, "a 12") == Pieces{"aĠ", "1", "2"});
  CHECK_THROWS_WITH(pieces(R"({"type": "BertPreTokenizer"})", "x"), Catch::Contains("pre_tokenizer type BertPreTokenizer"));
  CHECK_THROWS_WITH(pieces(R"({"type": "Whitespace"})", "x"), Catch::Contains("supported: Split, ByteLevel"));
}
