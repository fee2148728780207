#pragma once
// tokenizer.json's BPE "model": a vocabulary, ranked merges, and what to do
// with characters the vocabulary lacks (<0xNN> byte tokens, an unknown
// token, or nothing). Merging one piece is O(n log n) in its length: a
// priority queue over adjacent pairs, lowest rank and then leftmost first,
// with stale entries skipped, as Hugging Face's BPE does.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/hf_json.hpp"

namespace pagedserve::model {

class BpeModel {
 public:
  // `json` is tokenizer.json's "model". Throws naming what is unsupported
  // (another model type, dropout, subword prefixes) or malformed.
  explicit BpeModel(hf_json::Element json);

  // Appends the ids of one pre-tokenized piece.
  void encode(std::string_view piece, std::vector<std::int32_t>& out) const;

  // The vocabulary: id -> piece (empty where an id is unused) and back.
  const std::vector<std::string>& pieces() const { return pieces_; }
  std::int32_t id_of(std::string_view piece) const;
  // Gives `piece` id `id` (an added token outside the model's vocabulary).
  void add_piece(const std::string& piece, std::int32_t id);
  // The byte a <0xNN> token stands for, or -1.
  int byte_of(std::int32_t id) const;

 private:
  struct Merge {
    std::int32_t rank, merged_id;
  };
  static std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  void read_vocab(hf_json::Element json);
  void read_merges(hf_json::Element json);
  std::vector<std::int32_t> initial_symbols(std::string_view piece) const;
  void merge(std::vector<std::int32_t>& symbols) const;

  std::vector<std::string> pieces_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::vector<std::int32_t> byte_tokens_;  // byte -> <0xNN> id, or -1
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  std::int32_t unk_id_ = -1;
};

}  // namespace pagedserve::model
