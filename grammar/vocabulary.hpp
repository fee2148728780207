#pragma once
// A model's vocabulary as the grammar sees it: the bytes each token adds to
// the text, and a trie of those byte strings laid out in preorder so that a
// mask is one linear walk that skips whole subtrees the grammar rejects.
//
//   tokens "a", "ab", "ac", "b"      preorder nodes (byte, depth, end)
//          a                         0: 'a' 1 end=3   tokens {a}
//         / \                        1: 'b' 2 end=2   tokens {ab}
//        b   c    b                  2: 'c' 2 end=3   tokens {ac}
//                                    3: 'b' 1 end=4   tokens {b}
//
// `end` is the index just past a node's subtree: a rejected prefix jumps there.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::grammar {

struct TrieNode {
  unsigned char byte = 0;
  std::uint32_t depth = 0;        // 1 for a token's first byte
  std::uint32_t end = 0;          // one past the subtree
  std::uint32_t first_token = 0;  // into Vocabulary::node_tokens
  std::uint32_t num_tokens = 0;   // tokens whose bytes end here
};

class Vocabulary {
 public:
  // token_bytes[i]: what token i adds to the text; an empty string marks a
  // token grammar never allows (control and special tokens). `eos_ids` end
  // a sequence; they are allowed only where the grammar accepts.
  Vocabulary(std::vector<std::string> token_bytes, std::vector<std::int32_t> eos_ids);

  std::int32_t size() const { return static_cast<std::int32_t>(bytes_.size()); }
  std::string_view bytes(std::int32_t id) const { return bytes_[static_cast<std::size_t>(id)]; }
  bool is_eos(std::int32_t id) const;
  const std::vector<std::int32_t>& eos_ids() const { return eos_ids_; }
  const std::vector<TrieNode>& trie() const { return trie_; }
  const std::vector<std::int32_t>& node_tokens() const { return node_tokens_; }
  std::uint32_t max_depth() const { return max_depth_; }

 private:
  void build_trie();

  std::vector<std::string> bytes_;
  std::vector<std::int32_t> eos_ids_;
  std::vector<TrieNode> trie_;
  std::vector<std::int32_t> node_tokens_;
  std::uint32_t max_depth_ = 0;
};

}  // namespace pagedserve::grammar
