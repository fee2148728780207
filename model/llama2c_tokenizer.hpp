#pragma once
// The llama2.c tokenizer (tokenizer.bin): a SentencePiece BPE vocabulary with
// scores. Encoding and decoding follow llama2.c's run.c exactly, so prompt
// ids match the reference program token for token.

#include <string>
#include <unordered_map>
#include <vector>

#include "model/tokenizer.hpp"

namespace pagedserve::model {

class Llama2cTokenizer final : public Tokenizer {
 public:
  // Throws std::runtime_error naming the path when the file is missing,
  // truncated, or holds fewer pieces than `vocab_size`.
  Llama2cTokenizer(const std::string& path, int vocab_size);

  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  std::int32_t bos_id() const override { return 1; }
  std::int32_t eos_id() const override { return 2; }
  bool is_control(std::int32_t id) const override { return id >= 0 && id <= 2; }  // <unk> <s> </s>
  std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const override;
  std::string decode_piece(std::int32_t prev, std::int32_t id) const override;

  const std::string& piece(std::int32_t id) const { return pieces_.at(id); }

 private:
  std::int32_t lookup(const std::string& piece) const;
  void merge_pairs(std::vector<std::int32_t>& ids) const;

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, std::int32_t> ids_;
};

}  // namespace pagedserve::model
