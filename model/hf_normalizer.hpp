#pragma once
// tokenizer.json's "normalizer": NFC (by ICU), Prepend, Replace (a string or
// a regex) and Sequence of these, applied to each stretch of text between
// added tokens. Other types are refused at load with their name.

#include <memory>
#include <string>
#include <vector>

#include "model/hf_json.hpp"
#include "model/pcre_pattern.hpp"

namespace pagedserve::model {

class HfNormalizer {
 public:
  HfNormalizer() = default;  // changes nothing
  // `json` is the "normalizer" value (null: none).
  explicit HfNormalizer(hf_json::Element json);
  std::string apply(std::string text) const;

 private:
  enum class Kind { nfc, prepend, replace };
  struct Step {
    Kind kind;
    std::string text;                      // prepend: the prefix; replace: the content
    std::shared_ptr<PcrePattern> pattern;  // replace: what to find
  };
  void add(hf_json::Element json);
  std::vector<Step> steps_;
};

// `text` in Unicode Normalization Form C (invalid UTF-8 is left as it is).
std::string to_nfc(const std::string& text);

}  // namespace pagedserve::model
