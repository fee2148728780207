#include "model/llama2c_tokenizer.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "model/mapped_file.hpp"

namespace pagedserve::model {

Llama2cTokenizer::Llama2cTokenizer(const std::string& path, int vocab_size) {
  auto file = MappedFile::open(path);
  const std::byte* p = file->data();
  const std::byte* end = p + file->size();
  auto read = [&](void* dst, std::size_t n, const char* what) {
    if (static_cast<std::size_t>(end - p) < n)
      throw std::runtime_error(path + ": truncated tokenizer file (while reading " + what + " of piece " +
                               std::to_string(pieces_.size()) + ")");
    std::memcpy(dst, p, n);
    p += n;
  };
  std::int32_t max_len = 0;
  read(&max_len, 4, "the header");
  if (vocab_size <= 0) throw std::runtime_error(path + ": vocabulary size must be positive");
  for (int i = 0; i < vocab_size; ++i) {
    float score = 0;
    std::int32_t len = 0;
    read(&score, 4, "a score");
    read(&len, 4, "a length");
    if (len < 0 || len > 1024) throw std::runtime_error(path + ": piece " + std::to_string(i) + " has a bad length");
    std::string piece(static_cast<std::size_t>(len), '\0');
    read(piece.data(), piece.size(), "a piece");
    ids_.emplace(piece, i);  // the first of equal pieces wins
    pieces_.push_back(std::move(piece));
    scores_.push_back(score);
  }
}

std::int32_t Llama2cTokenizer::lookup(const std::string& piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::int32_t> Llama2cTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<std::int32_t> ids;
  if (add_bos) ids.push_back(bos_id());
  if (!text.empty()) {
    std::int32_t space = lookup(" ");
    if (space >= 0) ids.push_back(space);  // SentencePiece's dummy prefix
  }
  // One code point at a time: its piece if the vocabulary has it, else its
  // bytes as byte-fallback tokens (<0xXX> = byte + 3).
  std::string cp;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) cp.clear();
    cp.push_back(static_cast<char>(c));
    const bool next_continues = i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
    if (next_continues && cp.size() < 4) continue;
    std::int32_t id = lookup(cp);
    if (id >= 0) {
      ids.push_back(id);
    } else {
      for (unsigned char b : cp) ids.push_back(static_cast<std::int32_t>(b) + 3);
    }
    cp.clear();
  }
  merge_pairs(ids);
  return ids;
}

// Repeatedly merges the adjacent pair whose concatenation is the
// highest-scoring piece (the leftmost on ties), as llama2.c does.
void Llama2cTokenizer::merge_pairs(std::vector<std::int32_t>& ids) const {
  std::string joined;
  while (true) {
    float best_score = -1e10f;
    std::int32_t best_id = -1;
    std::size_t best_at = 0;
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
      joined = pieces_[ids[i]];
      joined += pieces_[ids[i + 1]];
      std::int32_t id = lookup(joined);
      if (id >= 0 && scores_[id] > best_score) {
        best_score = scores_[id];
        best_id = id;
        best_at = i;
      }
    }
    if (best_id < 0) return;
    ids[best_at] = best_id;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
}

std::string Llama2cTokenizer::decode_piece(std::int32_t prev, std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary");
  std::string_view piece = pieces_[id];
  if (prev == bos_id() && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
  unsigned int byte = 0;
  if (piece.size() == 6 && piece.substr(0, 3) == "<0x" && piece.back() == '>' &&
      std::sscanf(std::string(piece).c_str(), "<0x%02X>", &byte) == 1)
    return std::string(1, static_cast<char>(byte));
  return std::string(piece);
}

}  // namespace pagedserve::model
