#pragma once
// A Hugging Face tokenizer.json, run as it declares: added tokens are found
// first (longest at the leftmost place, with their lstrip/rstrip: those with
// normalized false in the raw text, the others, normalized themselves, in
// the normalized text); each
// stretch between them goes through the normalizer, the pre-tokenizer and
// the BPE model; ids decode through the declared decoder. What the file
// declares and this project does not implement is refused at load, by name.
// Which BOS a prompt starts with comes from tokenizer_config.json and the
// post-processor (see tokenizer_config.hpp), set by set_special_tokens.

#include <memory>
#include <string>
#include <vector>

#include "model/bpe_model.hpp"
#include "model/hf_decoder.hpp"
#include "model/hf_normalizer.hpp"
#include "model/hf_pre_tokenizer.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::model {

class HfTokenizer final : public Tokenizer {
 public:
  // Parses tokenizer.json text; throws std::runtime_error naming what is
  // missing, malformed or unsupported. bos/eos are taken from the given ids.
  HfTokenizer(const std::string& json_text, std::int32_t bos_id, std::int32_t eos_id);
  static HfTokenizer from_file(const std::string& path, std::int32_t bos_id, std::int32_t eos_id);

  int vocab_size() const override { return static_cast<int>(model_->pieces().size()); }
  std::int32_t bos_id() const override { return bos_id_; }
  std::int32_t eos_id() const override { return eos_id_; }
  std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const override;
  // A `prev` below zero or equal to BOS marks the first token of a text.
  std::string decode_piece(std::int32_t prev, std::int32_t id) const override;
  // The text of a whole id sequence, as Hugging Face's decode with special
  // tokens kept: only ids[0] is first, even where BOS appears later.
  std::string decode_sequence(const std::vector<std::int32_t>& ids) const;
  bool byte_level() const { return pre_tokenizer_.byte_level(); }
  // The id of a vocabulary or added token's text, or -1.
  std::int32_t token_id(const std::string& text) const { return model_->id_of(text); }
  // What the model directory says (tokenizer_config.json): whether encode()
  // may put BOS first at all (Qwen: never), and which ids BOS and EOS are.
  void set_special_tokens(bool adds_bos, std::int32_t bos_id, std::int32_t eos_id) {
    adds_bos_ = adds_bos;
    bos_id_ = bos_id;
    eos_id_ = eos_id;
  }
  bool adds_bos() const { return adds_bos_; }

 private:
  struct AddedToken {
    std::string content;
    std::string pattern;  // what is searched for: content, normalized for a normalized token
    std::int32_t id;
    bool lstrip, rstrip;  // swallow the whitespace before / after it
    bool normalized;      // matched in normalized text (after the raw-text ones)
  };
  // A stretch of text, or an added token found in it.
  struct Part {
    std::string_view text;
    std::int32_t token_id;  // -1 for text
    bool at_start;          // text that begins the input
  };
  void read_added_tokens(hf_json::Element root);
  const AddedToken* added_token_at(std::string_view text, std::size_t at, bool normalized) const;
  std::vector<Part> split_on_added(std::string_view text, bool normalized, bool at_start) const;
  void encode_stretch(std::string_view text, bool at_start, std::vector<std::int32_t>& out) const;
  std::string decode_one(std::int32_t id, bool first) const;

  std::shared_ptr<BpeModel> model_;
  HfNormalizer normalizer_;
  HfPreTokenizer pre_tokenizer_;
  HfDecoder decoder_;
  bool adds_bos_ = true;  // false: encode(text, true) adds no BOS
  std::int32_t bos_id_ = 1, eos_id_ = 2;
  std::vector<AddedToken> added_;
  // [normalized][byte] -> indices into added_ of tokens starting with that byte, longest first
  std::vector<std::size_t> added_by_first_byte_[2][256];
  std::vector<bool> is_added_;                                  // id -> whether it is an added token
  std::vector<std::string> decoded_;                            // id -> its bytes, not first in a text
};

}  // namespace pagedserve::model
