#pragma once
// The TokenGrammar of each constraint in use over one vocabulary, so that
// every sequence with the same constraint shares its stacks and its mask
// cache. Owned by one thread (the executor's).

#include <map>
#include <memory>

#include "grammar/constraint.hpp"
#include "grammar/token_mask.hpp"

namespace pagedserve::grammar {

class TokenGrammarPool {
 public:
  explicit TokenGrammarPool(std::shared_ptr<const Vocabulary> vocabulary) : vocabulary_(std::move(vocabulary)) {}

  // Throws GrammarError (compile()).
  TokenMatcher matcher(const Constraint& c);
  const Vocabulary& vocabulary() const { return *vocabulary_; }

 private:
  std::shared_ptr<const Vocabulary> vocabulary_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<TokenGrammar>> grammars_;
};

}  // namespace pagedserve::grammar
