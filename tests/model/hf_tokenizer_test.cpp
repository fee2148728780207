// tokenizer.json in both BPE flavours, on small vocabularies whose expected
// ids are worked out by hand in the comments.

#include "model/hf_tokenizer.hpp"

#include <catch2/catch.hpp>

using pagedserve::model::HfTokenizer;
using Ids = std::vector<std::int32_t>;

namespace {

// SentencePiece style: "▁" = U+2581. Merges by rank: (▁,l) (l,o) (▁l,o)? no:
// rank 0 "l o" -> lo, rank 1 "▁ lo" -> ▁lo, rank 2 "▁lo w" -> ▁low.
const char* kSentencePiece = R"({
  "version": "1.0",
  "added_tokens": [{"id": 0, "content": "<unk>", "special": true},
                   {"id": 1, "content": "<s>", "special": true},
                   {"id": 2, "content": "</s>", "special": true}],
  "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                     {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
  "pre_tokenizer": null,
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                               {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
  "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
    "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4,
              "▁": 5, "l": 6, "o": 7, "w": 8, "lo": 9, "▁lo": 10, "▁low": 11, "e": 12},
    "merges": ["l o", "▁ lo", "▁lo w"]}
})";

// Byte-level: "Ġ" is the space byte 0x20 in GPT-2's byte map.
const char* kByteLevel = R"({
  "added_tokens": [{"id": 10, "content": "<|begin_of_text|>", "special": true},
                   {"id": 11, "content": "<|eot|>", "special": true}],
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE",
    "vocab": {"h": 0, "i": 1, "Ġ": 2, "t": 3, "e": 4, "r": 5, "hi": 6, "Ġt": 7, "he": 8, "Ġthe": 9,
              "Ã": 12, "©": 13, "Ċ": 14, "1": 15, "2": 16, "3": 17, "4": 18, "12": 19, "Ġth": 20},
    "merges": ["h i", "Ġ t", "Ġt h", "Ġth e"]}
})";

}  // namespace

TEST_CASE("SentencePiece-style BPE merges by rank within words", "[hf_tokenizer]") {
  HfTokenizer tok(kSentencePiece, 1, 2);
  CHECK_FALSE(tok.byte_level());
  // "low lo" -> "▁low▁lo": words ▁low (merges l o, ▁ lo, ▁lo w) and ▁lo.
  CHECK(tok.encode("low lo", true) == Ids{1, 11, 10});
  CHECK(tok.decode(1, {11, 10}) == "low lo");
  // "é" is missing: bytes C3 A9 fall back to <0xC3> <0xA9>.
  CHECK(tok.encode("é", false) == Ids{5, 3, 4});
  CHECK(tok.decode(1, {5, 3, 4}) == "é");
  // Special tokens in the text are recognised verbatim.
  CHECK(tok.encode("lo</s>", false) == Ids{10, 2});
}

TEST_CASE("byte-level BPE maps bytes, pre-tokenizes and merges", "[hf_tokenizer]") {
  HfTokenizer tok(kByteLevel, 10, 11);
  CHECK(tok.byte_level());
  // "hi the": pieces "hi", " the" -> [h i] -> hi; [Ġ t h e] -> Ġt -> Ġth -> Ġthe.
  CHECK(tok.encode("hi the", true) == Ids{10, 6, 9});
  CHECK(tok.decode(10, {6, 9}) == "hi the");
  // "é" is the bytes C3 A9, mapped to "Ã" and "©".
  CHECK(tok.encode("é", false) == Ids{12, 13});
  CHECK(tok.decode(0, {12, 13}) == "é");
  // Numbers split in groups of up to three digits: "1234" -> "123", "4".
  CHECK(tok.encode("1234", false) == Ids{15, 16, 17, 18});
  CHECK(tok.encode("<|eot|>hi", false) == Ids{11, 6});
  CHECK(tok.decode(0, {11}) == "<|eot|>");
}

TEST_CASE("malformed tokenizer.json files are refused with the reason", "[hf_tokenizer]") {
  CHECK_THROWS_WITH(HfTokenizer("{", 1, 2), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "Unigram"}})", 1, 2), Catch::Contains("only BPE"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", 1, 2),
                    Catch::Contains("missing from the vocab"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", 1, 2), Catch::Contains("merges"));
  CHECK_THROWS_WITH(HfTokenizer::from_file("/nonexistent/tokenizer.json", 1, 2), Catch::Contains("cannot read"));
}
