#include "grammar/token_mask.hpp"

#include <algorithm>

namespace pagedserve::grammar {

namespace {

// Past this many cached mask words (64 MiB) the cache starts over: a
// grammar with unboundedly many states must not grow without limit.
constexpr std::size_t kMaxCachedWords = std::size_t{16} << 20;

void allow(std::span<std::uint32_t> words, std::int32_t id) {
  words[static_cast<std::size_t>(id) >> 5] |= 1u << (static_cast<std::uint32_t>(id) & 31);
}

}  // namespace

std::size_t TokenGrammar::StateHash::operator()(const MatchState& s) const {
  std::uint64_t h = 1469598103934665603ull;
  for (StackId id : s) h = (h ^ id) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

TokenGrammar::TokenGrammar(std::shared_ptr<const Program> program, std::shared_ptr<const Vocabulary> vocabulary)
    : program_(std::move(program)), vocabulary_(std::move(vocabulary)), runtime_(program_) {
  levels_.resize(vocabulary_->max_depth() + 1);
}

void TokenGrammar::fill_mask(const MatchState& state, std::span<std::uint32_t> words) {
  if (auto it = cache_.find(state); it != cache_.end()) {
    std::copy(it->second.begin(), it->second.end(), words.begin());
    return;
  }
  std::fill(words.begin(), words.end(), 0u);
  walk_trie(state, words);
  const bool any = std::any_of(words.begin(), words.end(), [](std::uint32_t w) { return w != 0; });
  // A dead end (no token continues, e.g. a byte no token has) may end too.
  if (GrammarRuntime::accepts(state) || !any)
    for (std::int32_t eos : vocabulary_->eos_ids()) allow(words, eos);
  if (cache_.size() * words.size() >= kMaxCachedWords) cache_.clear();
  cache_.emplace(state, std::vector<std::uint32_t>(words.begin(), words.end()));
}

// Preorder walk: levels_[d] is the state after the first d bytes of the
// current node's path, so a node reads its parent's state at depth - 1.
void TokenGrammar::walk_trie(const MatchState& state, std::span<std::uint32_t> words) {
  if (!GrammarRuntime::can_continue(state)) return;
  const auto& trie = vocabulary_->trie();
  const auto& tokens = vocabulary_->node_tokens();
  levels_[0] = state;
  for (std::size_t i = 0; i < trie.size();) {
    const TrieNode& node = trie[i];
    MatchState& here = levels_[node.depth];
    runtime_.advance(levels_[node.depth - 1], node.byte, here);
    if (here.empty()) {
      i = node.end;
      continue;
    }
    for (std::uint32_t t = 0; t < node.num_tokens; ++t) allow(words, tokens[node.first_token + t]);
    ++i;
  }
}

bool TokenMatcher::accept(std::int32_t token) {
  const Vocabulary& vocab = grammar_->vocabulary();
  if (token < 0 || token >= vocab.size()) return false;
  if (vocab.is_eos(token)) return accepts();
  MatchState next = state_;
  if (vocab.bytes(token).empty() || !grammar_->runtime().advance(next, vocab.bytes(token))) return false;
  state_ = std::move(next);
  return true;
}

}  // namespace pagedserve::grammar
