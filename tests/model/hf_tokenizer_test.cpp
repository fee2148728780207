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
  // GPT-2's split (ByteLevel's use_regex) keeps "1234" one piece; no merges apply.
  CHECK(tok.encode("1234", false) == Ids{15, 16, 17, 18});
  CHECK(tok.encode("<|eot|>hi", false) == Ids{11, 6});
  CHECK(tok.decode(0, {11}) == "<|eot|>");
}

TEST_CASE("malformed tokenizer.json files are refused with the reason", "[hf_tokenizer]") {
  CHECK_THROWS_WITH(HfTokenizer("{", 1, 2), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "Unigram"}})", 1, 2), Catch::Contains("model type Unigram"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", 1, 2),
                    Catch::Contains("missing from the vocab"));
  CHECK_THROWS_WITH(HfTokenizer(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", 1, 2), Catch::Contains("merges"));
  CHECK_THROWS_WITH(HfTokenizer::from_file("/nonexistent/tokenizer.json", 1, 2), Catch::Contains("cannot read"));
}

namespace {

// Digits in one piece or in threes, depending only on the declared split.
std::string numbers_tokenizer(const std::string& pre_tokenizer) {
  return R"({"added_tokens": [], "pre_tokenizer": )" + pre_tokenizer + R"(, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"1": 0, "2": 1, "3": 2, "4": 3, "12": 4, "34": 5, "1234": 6, "123": 7},
              "merges": ["1 2", "3 4", "12 34", "12 3"]}})";
}

}  // namespace

TEST_CASE("the pre-tokenizer is the one tokenizer.json declares", "[hf_tokenizer]") {
  const HfTokenizer gpt2(numbers_tokenizer(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})"), 0, 0);
  CHECK(gpt2.encode("1234", false) == Ids{6});  // one piece: 12 34 -> 1234
  const HfTokenizer threes(numbers_tokenizer(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})"), 0, 0);
  CHECK(threes.encode("1234", false) == Ids{7, 3});  // "123" "4"
}

TEST_CASE("added tokens: longest first, lstrip and rstrip swallow whitespace", "[hf_tokenizer]") {
  const HfTokenizer tok(R"({
    "added_tokens": [{"id": 3, "content": "<a>", "special": true},
                     {"id": 4, "content": "<a><b>", "special": true},
                     {"id": 5, "content": "<m>", "lstrip": true, "rstrip": true, "special": true}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"x": 0, "Ġ": 1, "Ġx": 2}, "merges": ["Ġ x"]}})", 0, 0);
  CHECK(tok.encode("x<a><b>x<a>", false) == Ids{0, 4, 0, 3});
  CHECK(tok.encode("x  <m>  x", false) == Ids{0, 5, 0});
  CHECK(tok.encode("x x", false) == Ids{0, 2});
  CHECK_THROWS_WITH(HfTokenizer(R"({"added_tokens": [{"id": 0, "content": "x", "single_word": true}],
                                  "model": {"type": "BPE", "vocab": {}, "merges": []}})", 0, 0),
                    Catch::Contains("single_word"));
}

TEST_CASE("NFC applies before the split; a Metaspace file starts words with its mark", "[hf_tokenizer]") {
  const HfTokenizer tok(R"({"added_tokens": [{"id": 0, "content": "<s>", "special": true}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"},
    "model": {"type": "BPE", "unk_token": "<s>", "vocab": {"<s>": 0, "▁": 1, "é": 2, "▁é": 3, "e": 4}, "merges": ["▁ é"]}})", 0, 0);
  CHECK(tok.encode("e\xCC\x81 e\xCC\x81", false) == Ids{3, 3});  // decomposed é composes, then merges
  CHECK(tok.encode("<s>é", false) == Ids{0, 2});                   // "first": no mark after an added token
  CHECK(tok.decode(-1, {3, 3}) == "é é");
}

TEST_CASE("a post-processor that adds more than a leading BOS is refused by name", "[hf_tokenizer]") {
  const std::string model = R"("model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1}, "merges": []})";
  auto with_post = [&](const std::string& post) { return HfTokenizer("{\"post_processor\": " + post + ", " + model + "}", 0, 1); };
  const std::string bos = R"({"SpecialToken": {"id": "<s>", "type_id": 0}})";
  const std::string text = R"({"Sequence": {"id": "A", "type_id": 0}})";
  const std::string eos = R"({"SpecialToken": {"id": "</s>", "type_id": 0}})";
  CHECK_NOTHROW(with_post(R"({"type": "TemplateProcessing", "single": [)" + bos + "," + text + "]}"));
  CHECK_NOTHROW(with_post(R"({"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [)" +
                          text + "]}]}"));
  CHECK_THROWS_WITH(with_post(R"({"type": "TemplateProcessing", "single": [)" + bos + "," + text + "," + eos + "]}"),
                    Catch::Contains("adds </s> after the start of a text"));
  CHECK_THROWS_WITH(with_post(R"({"type": "RobertaProcessing"})"), Catch::Contains("post_processor type RobertaProcessing"));
}

TEST_CASE("normalized added tokens are found in the normalized text", "[hf_tokenizer]") {
  // Llama 2's normalizer puts a mark before each stretch between raw-text
  // tokens; a token found only after normalizing leaves the text after it
  // without one.
  auto tokenizer = [](bool normalized) {
    return HfTokenizer(R"({"added_tokens": [{"id": 0, "content": "<s>", "special": true, "normalized": )" +
                           std::string(normalized ? "true" : "false") + R"(}],
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                         {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
      "model": {"type": "BPE", "vocab": {"<s>": 0, "▁": 1, "a": 2, "b": 3, "▁a": 4, "▁b": 5}, "merges": ["▁ a", "▁ b"]}})",
                       0, 0);
  };
  // Normalized, the token itself is looked for as "▁<s>": found only where
  // the mark precedes it, and then the mark goes with it.
  CHECK(tokenizer(false).encode("a<s>b", false) == Ids{4, 0, 5});
  CHECK(tokenizer(true).encode("a <s>b", false) == Ids{4, 0, 3});
  CHECK(tokenizer(true).encode("<s>", false) == Ids{0});
  CHECK(tokenizer(true).encode("a<s>", false) == Ids{4});  // "▁a<s>" has no "▁<s>"; "<s>" as characters: not in the vocab
}
