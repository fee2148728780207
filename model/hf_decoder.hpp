#pragma once
// tokenizer.json's "decoder", one token at a time: ByteLevel (characters
// back to bytes), Metaspace, Replace, ByteFallback (<0xNN> to its byte),
// Fuse, Strip and Sequence of these. Pieces are bytes that may split a
// UTF-8 character; IncrementalDecoder joins them before they are shown.
// "First" is the first token of a text: Metaspace and a Strip placed after
// Fuse drop their leading space there only, as they do on a whole text.

#include <string>
#include <vector>

#include "model/hf_json.hpp"

namespace pagedserve::model {

class HfDecoder {
 public:
  HfDecoder() = default;
  // `json` is the "decoder" value. Null declares none: then, as in Hugging
  // Face, tokens are joined by a space.
  explicit HfDecoder(hf_json::Element json);
  std::string decode(const std::string& piece, bool first) const;

 private:
  enum class Kind { byte_level, metaspace, replace, byte_fallback, strip };
  struct Step {
    Kind kind;
    std::string from, to;   // replace; metaspace: the mark; strip: the character
    int start = 0;          // strip: how many leading characters
    bool only_first = false;  // metaspace with a prepend scheme; strip after Fuse
  };
  void add(hf_json::Element json);
  std::vector<Step> steps_;
  bool declared_ = false;
  bool fused_ = false;
};

}  // namespace pagedserve::model
