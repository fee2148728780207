#pragma once
// tokenizer.json's "pre_tokenizer": cuts normalized text into the pieces BPE
// merges within. Split (its regex run by PCRE2), ByteLevel (optional prefix
// space, GPT-2's split pattern, bytes mapped to printable characters),
// Digits, Metaspace and Sequence of these. Other types are refused at load.

#include <memory>
#include <string>
#include <vector>

#include "model/hf_json.hpp"
#include "model/pcre_pattern.hpp"

namespace pagedserve::model {

// Hugging Face's SplitDelimiterBehavior: what becomes of a pattern's matches.
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

struct PrePiece {
  std::string text;
  bool at_start = false;  // begins the whole input (Metaspace's "first" scheme prepends only here)
};

class HfPreTokenizer {
 public:
  HfPreTokenizer() = default;  // one piece per stretch of text
  // `json` is the "pre_tokenizer" value (null: none).
  explicit HfPreTokenizer(hf_json::Element json);
  std::vector<PrePiece> apply(PrePiece text) const;
  // Whether a ByteLevel step maps bytes to characters.
  bool byte_level() const { return byte_level_; }

 private:
  enum class Kind { split, byte_level, metaspace };
  struct Step {
    Kind kind;
    std::shared_ptr<PcrePattern> pattern;  // split, and ByteLevel with use_regex
    SplitBehavior behavior = SplitBehavior::isolated;
    bool invert = false;
    bool add_prefix_space = false;  // ByteLevel
    std::string replacement;        // Metaspace
    std::string prepend_scheme;     // Metaspace: always, first, never
    bool metaspace_split = true;
  };
  void add(hf_json::Element json);
  void add_split(hf_json::Element json);
  void add_byte_level(hf_json::Element json);
  void add_metaspace(hf_json::Element json);
  void run(const Step& step, std::vector<PrePiece>& pieces) const;
  void prepare(const Step& step, PrePiece& piece) const;
  void split_into(const Step& step, const PrePiece& piece, std::vector<PrePiece>& out) const;
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

// GPT-2's reversible map from bytes to printable characters, and back.
const std::vector<std::string>& byte_level_characters();
// The byte a byte-level character stands for, or -1.
int byte_level_byte(std::uint32_t codepoint);

}  // namespace pagedserve::model
