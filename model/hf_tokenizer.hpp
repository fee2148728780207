#pragma once
// Hugging Face tokenizer.json with a BPE model, in its two common flavours:
//   - byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM): text is split by a
//     pre-tokenizer pattern, bytes are mapped to printable characters, and
//     merges apply within each piece;
//   - SentencePiece-style BPE (Llama 2, TinyLlama): spaces become U+2581,
//     a U+2581 is prepended, merges apply per word, and characters missing
//     from the vocabulary fall back to <0xXX> byte tokens.
// Added (special) tokens are matched verbatim before anything else.

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/tokenizer.hpp"

namespace pagedserve::model {

class HfTokenizer final : public Tokenizer {
 public:
  // Parses tokenizer.json text; throws std::runtime_error naming what is
  // missing or malformed. bos/eos are taken from the given ids.
  HfTokenizer(const std::string& json_text, std::int32_t bos_id, std::int32_t eos_id);
  static HfTokenizer from_file(const std::string& path, std::int32_t bos_id, std::int32_t eos_id);

  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  std::int32_t bos_id() const override { return bos_id_; }
  std::int32_t eos_id() const override { return eos_id_; }
  std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const override;
  std::string decode_piece(std::int32_t prev, std::int32_t id) const override;
  // Added tokens (chat markers, BOS/EOS and the like) are control tokens.
  bool is_control(std::int32_t id) const override;
  bool byte_level() const { return byte_level_; }
  // The id of a vocabulary or added token's text, or -1.
  std::int32_t token_id(const std::string& text) const { return id_of(text); }
  // What the model directory says (tokenizer_config.json): whether encode()
  // may put BOS first at all (Qwen: never), and which ids BOS and EOS are.
  void set_special_tokens(bool adds_bos, std::int32_t bos_id, std::int32_t eos_id) {
    adds_bos_ = adds_bos;
    bos_id_ = bos_id;
    eos_id_ = eos_id;
  }
  bool adds_bos() const { return adds_bos_; }

 private:
  void encode_word(const std::string& word, std::vector<std::int32_t>& out) const;
  void encode_text(std::string_view text, std::vector<std::int32_t>& out) const;
  std::int32_t id_of(const std::string& piece) const;
  std::string decode_uncached(std::int32_t id) const;

  bool byte_level_ = false;
  bool adds_bos_ = true;  // false: encode(text, true) adds no BOS
  std::int32_t bos_id_ = 1, eos_id_ = 2;
  std::vector<std::string> pieces_;                      // id -> piece
  std::unordered_map<std::string, std::int32_t> ids_;    // piece -> id
  std::map<std::pair<std::int32_t, std::int32_t>, std::pair<int, std::int32_t>> merges_;  // pair -> (rank, merged)
  std::vector<std::pair<std::string, std::int32_t>> added_;  // verbatim tokens, longest first
  std::vector<std::int32_t> byte_tokens_;                // <0xXX> ids, or -1
  std::vector<std::string> decoded_;                     // id -> the bytes it stands for
};

}  // namespace pagedserve::model
