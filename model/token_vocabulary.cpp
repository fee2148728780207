#include "model/token_vocabulary.hpp"

#include <algorithm>

namespace pagedserve::model {

std::shared_ptr<const grammar::Vocabulary> grammar_vocabulary(const Tokenizer& tokenizer, int vocab_size,
                                                              const std::vector<std::int32_t>& eos_ids) {
  std::vector<std::string> bytes(static_cast<std::size_t>(vocab_size));
  const int known = std::min(vocab_size, tokenizer.vocab_size());
  // Constrained text follows the prompt: decode each token as it reads in
  // the middle of a text (after BOS, or first, a leading space may drop).
  std::int32_t mid_text = 0;
  while (mid_text + 1 < known && tokenizer.is_control(mid_text)) ++mid_text;
  for (std::int32_t id = 0; id < known; ++id)
    if (!tokenizer.is_control(id)) bytes[static_cast<std::size_t>(id)] = tokenizer.decode_piece(mid_text, id);
  std::vector<std::int32_t> eos = eos_ids;
  if (eos.empty()) eos.push_back(tokenizer.eos_id());
  return std::make_shared<const grammar::Vocabulary>(std::move(bytes), std::move(eos));
}

}  // namespace pagedserve::model
