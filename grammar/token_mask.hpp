#pragma once
// Allowed-token masks: which tokens of a vocabulary may come next in a
// matcher state. A mask is one walk of the vocabulary trie that advances
// the state byte by byte and skips every subtree whose prefix the grammar
// rejects; the result is cached per state, so the states a grammar keeps
// returning to (inside a string, between fields) cost a copy.
//
// Mask layout: bit (id % 32) of word (id / 32) says token `id` is allowed.
// End-of-sequence tokens are allowed exactly where the grammar accepts, and
// alone once nothing else can follow.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/matcher.hpp"
#include "grammar/vocabulary.hpp"

namespace pagedserve::grammar {

inline std::size_t mask_words(std::int32_t vocab_size) { return (static_cast<std::size_t>(vocab_size) + 31) / 32; }

// One grammar over one vocabulary; shared by every sequence that uses it.
class TokenGrammar {
 public:
  TokenGrammar(std::shared_ptr<const Program> program, std::shared_ptr<const Vocabulary> vocabulary);

  // `words` holds mask_words(vocabulary size) words.
  void fill_mask(const MatchState& state, std::span<std::uint32_t> words);
  GrammarRuntime& runtime() { return runtime_; }
  const Vocabulary& vocabulary() const { return *vocabulary_; }
  std::size_t num_cached_masks() const { return cache_.size(); }

 private:
  struct StateHash {
    std::size_t operator()(const MatchState& s) const;
  };
  void walk_trie(const MatchState& state, std::span<std::uint32_t> words);

  std::shared_ptr<const Program> program_;
  std::shared_ptr<const Vocabulary> vocabulary_;
  GrammarRuntime runtime_;
  std::unordered_map<MatchState, std::vector<std::uint32_t>, StateHash> cache_;
  std::vector<MatchState> levels_;  // the state after each byte of the current trie path
};

// One sequence's position in its grammar.
class TokenMatcher {
 public:
  explicit TokenMatcher(std::shared_ptr<TokenGrammar> grammar)
      : grammar_(std::move(grammar)), state_(grammar_->runtime().initial()) {}

  void fill_mask(std::span<std::uint32_t> words) const { grammar_->fill_mask(state_, words); }
  // Moves past `token`; false (and no move) if the grammar forbids it.
  bool accept(std::int32_t token);
  bool accepts() const { return GrammarRuntime::accepts(state_); }
  std::int32_t vocab_size() const { return grammar_->vocabulary().size(); }

 private:
  std::shared_ptr<TokenGrammar> grammar_;
  MatchState state_;
};

}  // namespace pagedserve::grammar
