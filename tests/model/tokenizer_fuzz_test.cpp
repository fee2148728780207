// Tokenizers take arbitrary bytes from the network: random byte strings,
// valid UTF-8 or not, must encode without error and decode back exactly.

#include <catch2/catch.hpp>
#include <random>

#include "model/hf_tokenizer.hpp"
#include "model/llama2c_tokenizer.hpp"
#include "net/json_writer.hpp"
#include "reference_cases.hpp"

using namespace pagedserve;

namespace {

std::string random_bytes(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"a", " ", "the", "\n", "é", "日本", "🦙", "\xC3", "\xA9", "\xF0\x9F",
                                                  "\xFF", "\x00", "<0x41>", "<s>", "  ", "\t"};
  std::string s;
  const int n = static_cast<int>(rng() % 24);
  for (int i = 0; i < n; ++i) {
    if (rng() % 3 == 0) s.push_back(static_cast<char>(rng() % 256));
    else s += pieces[rng() % pieces.size()];
  }
  return s;
}

}  // namespace

TEST_CASE("llama2.c tokenizers round-trip random bytes", "[tokenizer][fuzz]") {
  model::Llama2cTokenizer small(std::string(testing::stories260k_dir()) + "/tok512.bin", 512);
  model::Llama2cTokenizer large(PAGEDSERVE_SOURCE_DIR "/tests/data/llama2_tokenizer.bin", 32000);
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_bytes(rng);
    for (const model::Tokenizer* tok : {static_cast<const model::Tokenizer*>(&small), static_cast<const model::Tokenizer*>(&large)}) {
      auto ids = tok->encode(text, true);
      REQUIRE(ids.front() == 1);
      for (auto id : ids) REQUIRE((id >= 0 && id < tok->vocab_size()));
      // The dummy-prefix space after BOS is dropped again by the decoder.
      INFO("text of " << text.size() << " bytes");
      REQUIRE(tok->decode(1, {ids.begin() + 1, ids.end()}) == text);
    }
  }
}

TEST_CASE("a byte-level tokenizer with all 256 bytes round-trips random bytes", "[tokenizer][fuzz]") {
  // The GPT-2 byte alphabet, no merges: every byte is one token.
  std::string vocab = "{";
  int extra = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const int cp = printable ? b : extra++;  // < 0x800: one or two UTF-8 bytes
    std::string ch;
    if (cp < 0x80) {
      ch.push_back(static_cast<char>(cp));
    } else {
      ch.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      ch.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    if (b) vocab.push_back(',');
    vocab += net::json_quote(ch);
    vocab.push_back(':');
    vocab += std::to_string(b);
  }
  vocab.push_back('}');
  // GPT-2's split, and a Split regex with Unicode classes and lookahead run
  // over invalid UTF-8 (PCRE2 leaves bad bytes unmatched, never fails).
  const std::string gpt2 = R"({"type": "ByteLevel", "add_prefix_space": false})";
  const std::string split = R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex":
      "(?i:'s|'ll)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
      "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})";
  for (const std::string& pre : {gpt2, split}) {
    model::HfTokenizer tok(R"({"pre_tokenizer": )" + pre + R"(, "decoder": {"type": "ByteLevel"},
                               "model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": []}})",
                           0, 0);
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
      const std::string text = random_bytes(rng);
      auto ids = tok.encode(text, false);
      REQUIRE(ids.size() == text.size());
      REQUIRE(tok.decode(-1, ids) == text);
    }
  }
}
