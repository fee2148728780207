#include "model/llama2c_tokenizer.hpp"

#include <catch2/catch.hpp>

#include "reference_cases.hpp"

using namespace pagedserve;
using model::Llama2cTokenizer;

TEST_CASE("llama2.c encoding gives the reference prompt ids", "[tokenizer]") {
  Llama2cTokenizer tok(std::string(testing::stories260k_dir()) + "/tok512.bin", 512);
  for (const auto& c : testing::load_reference_cases()) {
    INFO("prompt: " << c.prompt);
    CHECK(tok.encode(c.prompt, true) == c.prompt_ids);
  }
}

TEST_CASE("llama2.c decoding reproduces the printed stories", "[tokenizer]") {
  Llama2cTokenizer tok(std::string(testing::stories260k_dir()) + "/tok512.bin", 512);
  for (const auto& c : testing::load_reference_cases()) {
    std::vector<std::int32_t> all(c.prompt_ids.begin() + 1, c.prompt_ids.end());
    all.insert(all.end(), c.output_ids.begin(), c.output_ids.end());
    INFO("prompt: " << c.prompt);
    CHECK(tok.decode(1, all) == c.stdout_text);
  }
}

TEST_CASE("the 32K Llama 2 vocabulary round-trips ASCII and multilingual text", "[tokenizer]") {
  Llama2cTokenizer tok(PAGEDSERVE_SOURCE_DIR "/tests/data/llama2_tokenizer.bin", 32000);
  for (std::string text : {"Hello world", "The quick brown fox jumps over the lazy dog.",
                           "Grüße aus München – naïve café", "日本語のテキスト", "emoji 🦙 and tabs\tend"}) {
    auto ids = tok.encode(text, true);
    REQUIRE(ids.front() == 1);
    CHECK(tok.decode(1, {ids.begin() + 1, ids.end()}) == text);
  }
  // Known ids from the Llama 2 vocabulary: "Hello" is 15043, " world" 3186.
  CHECK(tok.encode("Hello world", true) == std::vector<std::int32_t>{1, 15043, 3186});
}

TEST_CASE("code points outside the vocabulary fall back to byte tokens", "[tokenizer]") {
  Llama2cTokenizer tok(std::string(testing::stories260k_dir()) + "/tok512.bin", 512);
  std::string text = "日";  // not among stories260K's 512 pieces ("€" is)
  auto ids = tok.encode(text, false);
  // dummy prefix " ", then E6 97 A5 as byte tokens (byte + 3)
  CHECK(ids == std::vector<std::int32_t>{tok.encode(" ", false)[0], 0xE6 + 3, 0x97 + 3, 0xA5 + 3});
  CHECK(tok.decode(0, {ids.begin() + 1, ids.end()}) == text);
}

TEST_CASE("an incremental decoder holds back partial UTF-8 characters", "[tokenizer]") {
  Llama2cTokenizer tok(std::string(testing::stories260k_dir()) + "/tok512.bin", 512);
  model::IncrementalDecoder dec(tok, 0);
  CHECK(dec.push(0xE6 + 3).empty());
  CHECK(dec.push(0x97 + 3).empty());
  CHECK(dec.push(0xA5 + 3) == "日");
  CHECK(dec.push(0xE2 + 3).empty());
  CHECK(dec.flush() == "\xE2");
}

TEST_CASE("missing or truncated tokenizer files are refused clearly", "[tokenizer]") {
  CHECK_THROWS_WITH(Llama2cTokenizer("/nonexistent/tok.bin", 512), Catch::Contains("cannot open"));
  // tok512.bin holds 512 pieces: asking for more reads past its end.
  CHECK_THROWS_WITH(Llama2cTokenizer(std::string(testing::stories260k_dir()) + "/tok512.bin", 600),
                    Catch::Contains("truncated"));
}
