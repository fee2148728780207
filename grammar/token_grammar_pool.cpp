#include "grammar/token_grammar_pool.hpp"

namespace pagedserve::grammar {

namespace {
constexpr std::size_t kMaxGrammars = 64;
}

TokenMatcher TokenGrammarPool::matcher(const Constraint& c) {
  const auto key = std::make_pair(c.kind, c.source);
  auto it = grammars_.find(key);
  if (it == grammars_.end()) {
    if (grammars_.size() >= kMaxGrammars)
      std::erase_if(grammars_, [](const auto& entry) { return entry.second.use_count() == 1; });  // none in use
    it = grammars_.emplace(key, std::make_shared<TokenGrammar>(compile(c), vocabulary_)).first;
  }
  return TokenMatcher(it->second);
}

}  // namespace pagedserve::grammar
