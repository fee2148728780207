// `pagedserve tokenize` end to end: the tiny SentencePiece-style tokenizer
// (ids worked out from its vocabulary: <s>=1, the mark=4, a=5, b=6, ...),
// BOS from tokenizer_config.json, and bad input refused with a message.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../model/tiny_hf.hpp"
#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("tokenize prints ids without and with BOS, and the decoded text", "[cli]") {
  const auto dir = pagedserve::testing::temp_dir("cli-tokenize");
  std::ofstream(dir + "/tokenizer.json") << pagedserve::testing::tiny_tokenizer_json();
  std::ofstream(dir + "/tokenizer_config.json") << R"({"add_bos_token": true, "bos_token": "<s>"})";
  std::ofstream(dir + "/lines") << "\"ab a\"\n\"a<|im_end|>\\nb\"\n";
  const auto r = run_pagedserve("tokenize --tokenizer " + dir + "/tokenizer.json < " + dir + "/lines");
  REQUIRE(r.exit_code == 0);
  // "ab a" -> "▁ab▁a": no merges, one id per character; "\n" is not in the
  // vocabulary and there are no byte tokens, so it maps to nothing.
  CHECK(r.output ==
        "{\"ids\":[4,5,6,4,5],\"ids_with_bos\":[1,4,5,6,4,5],\"text\":\"ab a\"}\n"
        "{\"ids\":[4,5,3,4,6],\"ids_with_bos\":[1,4,5,3,4,6],\"text\":\"a<|im_end|> b\"}\n");
  std::ofstream(dir + "/bad") << "not json\n";
  const auto bad = run_pagedserve("tokenize --tokenizer " + dir + "/tokenizer.json < " + dir + "/bad");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("line 1 is not a JSON string") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("tokenize refuses a missing or unsupported tokenizer with the reason", "[cli]") {
  CHECK(run_pagedserve("tokenize").output.find("--tokenizer FILE is required") != std::string::npos);
  const auto dir = pagedserve::testing::temp_dir("cli-tokenize-bad");
  std::ofstream(dir + "/tokenizer.json") << R"({"model": {"type": "WordPiece", "vocab": {}}})";
  const auto r = run_pagedserve("tokenize --tokenizer " + dir + "/tokenizer.json < /dev/null");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("model type WordPiece is not supported; supported: BPE") != std::string::npos);
  std::filesystem::remove_all(dir);
}
