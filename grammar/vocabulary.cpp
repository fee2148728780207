#include "grammar/vocabulary.hpp"

#include <algorithm>
#include <numeric>

namespace pagedserve::grammar {

Vocabulary::Vocabulary(std::vector<std::string> token_bytes, std::vector<std::int32_t> eos_ids)
    : bytes_(std::move(token_bytes)), eos_ids_(std::move(eos_ids)) {
  build_trie();
}

bool Vocabulary::is_eos(std::int32_t id) const {
  return std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
}

// From the tokens sorted by their bytes, each token adds the nodes past its
// longest common prefix with the previous one; a node's subtree closes when
// a later token no longer shares its prefix.
void Vocabulary::build_trie() {
  std::vector<std::int32_t> order;
  for (std::int32_t id = 0; id < size(); ++id)
    if (!bytes_[static_cast<std::size_t>(id)].empty() && !is_eos(id)) order.push_back(id);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return bytes(a) < bytes(b); });
  std::vector<std::uint32_t> path;  // open node at each depth
  std::string_view prev;
  auto close_to = [&](std::size_t depth) {
    for (; path.size() > depth; path.pop_back()) trie_[path.back()].end = static_cast<std::uint32_t>(trie_.size());
  };
  for (std::int32_t id : order) {
    const std::string_view b = bytes(id);
    const std::size_t common =
        static_cast<std::size_t>(std::mismatch(prev.begin(), prev.end(), b.begin(), b.end()).first - prev.begin());
    close_to(common);
    for (std::size_t k = common; k < b.size(); ++k) {
      path.push_back(static_cast<std::uint32_t>(trie_.size()));
      trie_.push_back({static_cast<unsigned char>(b[k]), static_cast<std::uint32_t>(k + 1), 0, 0, 0});
    }
    TrieNode& last = trie_[path.back()];
    if (last.num_tokens == 0) last.first_token = static_cast<std::uint32_t>(node_tokens_.size());
    node_tokens_.push_back(id);
    ++last.num_tokens;
    max_depth_ = std::max<std::uint32_t>(max_depth_, static_cast<std::uint32_t>(b.size()));
    prev = b;
  }
  close_to(0);
}

}  // namespace pagedserve::grammar
