// The trie-walk mask against the definition: token t is allowed iff its
// bytes advance the state (end-of-sequence iff the state accepts), checked
// at every step of random walks through a grammar with a random vocabulary.

#include <catch2/catch.hpp>

#include <random>

#include "grammar/constraint.hpp"
#include "grammar/token_grammar_pool.hpp"

using namespace pagedserve::grammar;

namespace {

std::shared_ptr<const Vocabulary> random_vocabulary(std::mt19937& rng, int size) {
  const std::string alphabet = "{}[]\",:0123456789-.eatrufnlsxy \\";
  std::vector<std::string> tokens{"", "", ""};  // 0..2: control tokens, 2 is end-of-sequence
  for (int c = 0; c < 256; ++c) tokens.push_back(std::string(1, static_cast<char>(c)));
  while (static_cast<int>(tokens.size()) < size) {
    std::string t;
    const int len = std::uniform_int_distribution<int>(2, 6)(rng);
    for (int k = 0; k < len; ++k) t += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    tokens.push_back(t);
  }
  tokens.push_back(tokens[300]);  // two ids, one byte string
  return std::make_shared<Vocabulary>(std::move(tokens), std::vector<std::int32_t>{2});
}

bool allowed(const std::vector<std::uint32_t>& mask, std::int32_t id) { return (mask[id >> 5] >> (id & 31)) & 1; }

}  // namespace

TEST_CASE("token mask: equals a token-by-token check at every step of random walks") {
  std::mt19937 rng(11);
  auto vocab = random_vocabulary(rng, 2000);
  TokenGrammarPool pool(vocab);
  const Constraint schema{"json_schema", R"({"type":"object","properties":{"name":{"type":"string","maxLength":6},
    "tags":{"type":"array","items":{"enum":["a","b1",2]},"maxItems":3},"n":{"type":["number","null"]}},"required":["name"]})"};
  for (const Constraint& c : {schema, Constraint{"json_object", ""}, Constraint{"regex", "(ab|x[0-9]+)*y"}}) {
    GrammarRuntime reference(compile(c));
    for (int walk = 0; walk < 20; ++walk) {
      TokenMatcher matcher = pool.matcher(c);
      MatchState state = reference.initial();
      std::vector<std::uint32_t> mask(mask_words(vocab->size()));
      for (int step = 0; step < 30; ++step) {
        matcher.fill_mask(mask);
        std::vector<std::int32_t> ok;
        for (std::int32_t id = 0; id < vocab->size(); ++id) {
          MatchState s = state;
          const bool expected = id == 2 ? GrammarRuntime::accepts(state)
                                        : !vocab->bytes(id).empty() && reference.advance(s, vocab->bytes(id));
          INFO(c.kind << " step " << step << " token '" << vocab->bytes(id) << "'");
          REQUIRE(allowed(mask, id) == expected);
          if (expected) ok.push_back(id);
        }
        REQUIRE(!ok.empty());
        const std::int32_t pick = ok[std::uniform_int_distribution<std::size_t>(0, ok.size() - 1)(rng)];
        if (pick == 2) break;
        REQUIRE(matcher.accept(pick));
        REQUIRE(reference.advance(state, vocab->bytes(pick)));
      }
    }
  }
}

TEST_CASE("token mask: a finished grammar allows only end-of-sequence; forbidden tokens are not accepted") {
  auto vocab = std::make_shared<Vocabulary>(std::vector<std::string>{"", "yes", "no", "y", "es", "!"}, std::vector<std::int32_t>{0});
  TokenGrammarPool pool(vocab);
  TokenMatcher m = pool.matcher({"choice", R"(["yes","no"])"});
  std::vector<std::uint32_t> mask(1);
  m.fill_mask(mask);
  CHECK(mask[0] == ((1u << 1) | (1u << 2) | (1u << 3)));
  CHECK_FALSE(m.accept(4));
  CHECK_FALSE(m.accept(0));
  CHECK(m.accept(3));
  CHECK(m.accept(4));
  m.fill_mask(mask);
  CHECK(mask[0] == 1u);
  CHECK(m.accept(0));
}
