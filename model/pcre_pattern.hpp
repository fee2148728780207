#pragma once
// A tokenizer.json pattern run by PCRE2 in UTF mode with Unicode classes
// (\p{L}, \p{N}, \s are Unicode-aware, as in the regex engines Hugging Face
// tokenizers use), JIT-compiled. Subjects may hold invalid UTF-8: those
// bytes simply never match.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::model {

struct Span {
  std::size_t begin = 0, end = 0;
};

class PcrePattern {
 public:
  // `literal`: the pattern is plain text, not a regex. Throws
  // std::runtime_error with PCRE2's message and offset for a bad regex.
  PcrePattern(const std::string& pattern, bool literal);
  // Every non-empty, non-overlapping match, left to right.
  std::vector<Span> find_all(std::string_view subject) const;

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
};

}  // namespace pagedserve::model
