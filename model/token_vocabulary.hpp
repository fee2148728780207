#pragma once
// A tokenizer's vocabulary as constrained decoding sees it: the bytes each
// token adds to the output text (as the detokenizer shows it after a
// non-BOS token), control tokens left out, and the model's end-of-sequence
// tokens.

#include <memory>
#include <vector>

#include "grammar/vocabulary.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::model {

// `vocab_size` is the model's (its logits row): ids the tokenizer does not
// know are never allowed.
std::shared_ptr<const grammar::Vocabulary> grammar_vocabulary(const Tokenizer& tokenizer, int vocab_size,
                                                              const std::vector<std::int32_t>& eos_ids);

}  // namespace pagedserve::model
