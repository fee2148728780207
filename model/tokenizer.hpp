#pragma once
// Tokenizers behind one interface: llama2.c's tokenizer.bin and Hugging
// Face tokenizer.json (byte-level BPE and SentencePiece-style BPE).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::model {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual int vocab_size() const = 0;
  virtual std::int32_t bos_id() const = 0;
  virtual std::int32_t eos_id() const = 0;
  // Token ids of `text`, BOS first when add_bos and the model has prompts
  // start with one (a Hugging Face tokenizer_config.json may say never).
  virtual std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The bytes token `id` stands for when it follows `prev` (llama2.c drops
  // the leading space of the first piece after BOS). May be part of a UTF-8
  // character: join pieces before showing them.
  virtual std::string decode_piece(std::int32_t prev, std::int32_t id) const = 0;
  // Whether `id` is a control token (BOS, EOS, unknown, added special
  // tokens): never part of text a grammar constrains.
  virtual bool is_control(std::int32_t id) const { return id == bos_id() || id == eos_id(); }
  // The text of a whole output that followed `prev` (e.g. the last prompt token).
  std::string decode(std::int32_t prev, const std::vector<std::int32_t>& ids) const;
};

// Turns a stream of token ids into text chunks that are whole UTF-8
// characters, holding back a partial character until it completes.
class IncrementalDecoder {
 public:
  IncrementalDecoder(const Tokenizer& tokenizer, std::int32_t prev) : tokenizer_(tokenizer), prev_(prev) {}
  // The text that became complete with `id` (maybe empty).
  std::string push(std::int32_t id);
  // Whatever is still held back (invalid UTF-8 is passed through as-is).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  std::int32_t prev_;
  std::string pending_;
};

}  // namespace pagedserve::model
