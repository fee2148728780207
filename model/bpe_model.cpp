#include "model/bpe_model.hpp"

#include <cstdio>
#include <queue>
#include <stdexcept>

#include "model/utf8.hpp"

namespace pagedserve::model {

BpeModel::BpeModel(hf_json::Element json) {
  const std::string type = hf_json::type_of(json, "model");
  if (type != "BPE") hf_json::refuse("model", type, "BPE");
  hf_json::Element dropout;
  if (!json["dropout"].get(dropout) && !dropout.is_null())
    throw std::runtime_error("tokenizer.json BPE dropout is not supported (encoding would be random)");
  for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!hf_json::string_or(json, field, "").empty())
      throw std::runtime_error(std::string("tokenizer.json BPE ") + field + " is not supported");
  read_vocab(json);
  read_merges(json);
  byte_fallback_ = hf_json::bool_or(json, "byte_fallback", false);
  ignore_merges_ = hf_json::bool_or(json, "ignore_merges", false);
  fuse_unk_ = hf_json::bool_or(json, "fuse_unk", false);
  const std::string unk = hf_json::string_or(json, "unk_token", "");
  if (!unk.empty() && (unk_id_ = id_of(unk)) < 0)
    throw std::runtime_error("tokenizer.json BPE unk_token " + unk + " is not in the vocab");
  byte_tokens_.assign(256, -1);
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[b] = id_of(name);
  }
}

void BpeModel::read_vocab(hf_json::Element json) {
  simdjson::dom::object vocab;
  if (json["vocab"].get(vocab)) throw std::runtime_error("tokenizer.json has no model.vocab object");
  for (auto [piece, id_el] : vocab) {
    std::int64_t id = 0;
    if (id_el.get(id) || id < 0 || id > (1 << 24)) throw std::runtime_error("bad id for vocab piece " + std::string(piece));
    add_piece(std::string(piece), static_cast<std::int32_t>(id));
  }
}

// Merges come as "a b" strings (older files) or as [a, b] pairs (newer
// ones, which allow spaces inside pieces); their order is their rank.
void BpeModel::read_merges(hf_json::Element json) {
  simdjson::dom::array merges;
  if (json["merges"].get(merges)) throw std::runtime_error("tokenizer.json has no model.merges");
  std::int32_t rank = 0;
  for (auto m : merges) {
    std::string_view a, b, line;
    simdjson::dom::array pair;
    if (!m.get(line)) {
      const auto sp = line.find(' ');
      if (sp == std::string_view::npos) throw std::runtime_error("merge '" + std::string(line) + "' has no space");
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else if (m.get(pair) || pair.size() != 2 || pair.at(0).get(a) || pair.at(1).get(b)) {
      throw std::runtime_error("malformed merge entry");
    }
    const std::int32_t ia = id_of(a), ib = id_of(b), im = id_of(std::string(a) + std::string(b));
    if (ia < 0 || ib < 0 || im < 0)
      throw std::runtime_error("merge '" + std::string(a) + " " + std::string(b) + "' names pieces missing from the vocab");
    merges_[pair_key(ia, ib)] = {rank++, im};  // a repeated pair takes its last rank, as Hugging Face's map does
  }
}

void BpeModel::add_piece(const std::string& piece, std::int32_t id) {
  if (static_cast<std::size_t>(id) >= pieces_.size()) pieces_.resize(id + 1);
  pieces_[id] = piece;
  ids_[piece] = id;
}

std::int32_t BpeModel::id_of(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

int BpeModel::byte_of(std::int32_t id) const {
  for (int b = 0; b < 256; ++b)
    if (byte_tokens_[b] == id) return b;
  return -1;
}

// One symbol per character: its own token, else its bytes' <0xNN> tokens
// (byte_fallback, when all exist), else the unknown token (consecutive ones
// fused when fuse_unk), else nothing: Hugging Face drops the character.
std::vector<std::int32_t> BpeModel::initial_symbols(std::string_view piece) const {
  std::vector<std::int32_t> symbols;
  bool last_was_unk = false;
  for (std::string_view ch : utf8_characters(piece)) {
    if (const std::int32_t id = id_of(ch); id >= 0) {
      symbols.push_back(id);
      last_was_unk = false;
      continue;
    }
    bool all_bytes = byte_fallback_;
    for (unsigned char b : ch) all_bytes = all_bytes && byte_tokens_[b] >= 0;
    if (all_bytes) {
      for (unsigned char b : ch) symbols.push_back(byte_tokens_[b]);
      last_was_unk = false;
    } else if (unk_id_ >= 0) {
      if (!(fuse_unk_ && last_was_unk)) symbols.push_back(unk_id_);
      last_was_unk = true;
    }
  }
  return symbols;
}

// Applies merges, best rank first and leftmost among equals, over a linked
// list of symbols; a queue entry whose pair has since changed is skipped.
void BpeModel::merge(std::vector<std::int32_t>& symbols) const {
  const auto n = static_cast<std::int32_t>(symbols.size());
  std::vector<std::int32_t> prev(n), next(n);
  for (std::int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    std::int32_t rank, left, left_id, right_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto offer = [&](std::int32_t left) {
    if (left < 0 || next[left] < 0) return;
    auto it = merges_.find(pair_key(symbols[left], symbols[next[left]]));
    if (it != merges_.end()) queue.push({it->second.rank, left, symbols[left], symbols[next[left]]});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) offer(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const std::int32_t right = next[c.left];
    if (symbols[c.left] != c.left_id || right < 0 || symbols[right] != c.right_id) continue;  // stale
    symbols[c.left] = merges_.at(pair_key(c.left_id, c.right_id)).merged_id;
    symbols[right] = -1;  // removed
    next[c.left] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.left;
    offer(prev[c.left]);
    offer(c.left);
  }
  std::vector<std::int32_t> kept;
  for (std::int32_t i = 0; i >= 0 && i < n; i = next[i]) kept.push_back(symbols[i]);
  symbols = std::move(kept);
}

void BpeModel::encode(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const std::int32_t id = id_of(piece); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<std::int32_t> symbols = initial_symbols(piece);
  if (symbols.empty()) return;
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace pagedserve::model
