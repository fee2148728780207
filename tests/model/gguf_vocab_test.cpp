// Tokenizers as tokenizer.ggml.* metadata: byte-level tokenizer.json as
// llama.cpp's "gpt2" model with its merges, SentencePiece-style as "llama"
// with merges turned into scores, padding to the embedding rows.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "hf_export.hpp"
#include "model/gguf_vocab.hpp"

using namespace pagedserve;

namespace {

std::string write_json(const std::string& dir, const std::string& json) {
  std::ofstream(dir + "/tokenizer.json") << json;
  return dir + "/tokenizer.json";
}

}  // namespace

TEST_CASE("a byte-level tokenizer.json becomes the gpt2 model with its merges and special tokens", "[gguf]") {
  const auto dir = testing::temp_dir("gguf-vocab-bpe");
  const auto path = write_json(dir, R"({"added_tokens":[{"id":5,"content":"<|im_end|>","special":true},
      {"id":6,"content":"<tool>","special":false}],
    "pre_tokenizer":{"type":"ByteLevel"},
    "model":{"type":"BPE","vocab":{"a":0,"b":1,"\u010a":2,"ab":3,"abb":4},"merges":["a b",["ab","b"]]}})");
  auto v = model::vocab_from_tokenizer_json(path, "qwen2");
  CHECK(v.model == "gpt2");
  CHECK(v.pre == "qwen2");
  CHECK(v.tokens == std::vector<std::string>{"a", "b", "\u010a", "ab", "abb", "<|im_end|>", "<tool>"});
  CHECK(v.merges == std::vector<std::string>{"a b", "ab b"});
  CHECK(v.types[0] == static_cast<int>(model::GgufTokenType::normal));
  CHECK(v.types[5] == static_cast<int>(model::GgufTokenType::control));
  CHECK(v.types[6] == static_cast<int>(model::GgufTokenType::user_defined));
  v.pad_to(9);
  CHECK(v.tokens[8] == "[PAD8]");
  CHECK(v.types[8] == static_cast<int>(model::GgufTokenType::unused));
  CHECK_THROWS_WITH(v.pad_to(4), Catch::Contains("the tokenizer has 9 tokens, the model only 4"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a SentencePiece-style tokenizer.json becomes the llama model, merges scored by rank", "[gguf]") {
  const auto dir = testing::temp_dir("gguf-vocab-spm");
  const auto path = write_json(dir, R"({"added_tokens":[],"pre_tokenizer":{"type":"Metaspace"},
    "model":{"type":"BPE","vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"\u2581":4,"t":5,"h":6,"\u2581t":7,"\u2581th":8},
             "merges":["\u2581 t","\u2581t h"]}})");
  const auto v = model::vocab_from_tokenizer_json(path, "default");
  CHECK(v.model == "llama");
  CHECK(v.pre.empty());
  CHECK(v.merges.empty());
  CHECK(v.unknown_id == 0);
  CHECK(v.types[0] == static_cast<int>(model::GgufTokenType::unknown));
  CHECK(v.types[3] == static_cast<int>(model::GgufTokenType::byte));
  // llama.cpp merges the highest-scoring pair first: the earliest merge.
  CHECK(v.scores[7] > v.scores[8]);
  CHECK(v.scores[5] == 0.0f);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the placeholder vocabulary has llama's special and byte tokens", "[gguf]") {
  const auto v = model::placeholder_vocab(300);
  REQUIRE(v.tokens.size() == 300);
  CHECK(v.tokens[2] == "</s>");
  CHECK(v.tokens[3 + 0x0A] == "<0x0A>");
  CHECK(v.tokens[299] == "tok299");
  CHECK(v.types[1] == static_cast<int>(model::GgufTokenType::control));
}
