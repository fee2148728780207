#pragma once
// A model's tokenizer as GGUF metadata (tokenizer.ggml.*), read from the
// files pagedserve loads it from:
//   - llama2.c tokenizer.bin: a SentencePiece vocabulary with scores, which
//     is llama.cpp's "llama" tokenizer model exactly;
//   - Hugging Face tokenizer.json, byte-level BPE: the "gpt2" model, with
//     its merges;
//   - tokenizer.json, SentencePiece-style BPE (U+2581 for spaces): the
//     "llama" model, each merge's result scored by its rank, so that the
//     highest-scoring pair llama.cpp merges first is the earliest merge;
//   - no tokenizer at all (dummy weights): a placeholder vocabulary of the
//     right size, <unk> <s> </s>, the 256 byte tokens, then "tok<id>".

#include <cstdint>
#include <string>
#include <vector>

#include "model/gguf_writer.hpp"

namespace pagedserve::model {

// llama.cpp's token types (llama_token_type).
enum class GgufTokenType : std::int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct GgufVocab {
  std::string model = "llama";  // "llama" (scores) or "gpt2" (merges)
  std::string pre;              // gpt2 only: the pre-tokenizer's name in llama.cpp
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  std::vector<std::string> merges;  // "a b", by rank
  std::int32_t bos_id = 1, eos_id = 2, unknown_id = -1;
  bool add_bos = true;

  void add(std::string token, float score, GgufTokenType type);
  // Pads with unused "[PAD<id>]" tokens up to the model's embedding rows, as
  // llama.cpp wants one token per row; throws when the tokenizer has more.
  void pad_to(int vocab_size);
  void write_to(GgufWriter& w) const;
};

GgufVocab vocab_from_llama2c(const std::string& path, int vocab_size);
// `pre` names llama.cpp's pre-tokenizer for a byte-level vocabulary.
GgufVocab vocab_from_tokenizer_json(const std::string& path, const std::string& pre);
GgufVocab placeholder_vocab(int vocab_size);

}  // namespace pagedserve::model
