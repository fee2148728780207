#include "model/hf_normalizer.hpp"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <stdexcept>

#include "model/utf8.hpp"

namespace pagedserve::model {

namespace {

constexpr const char* kSupported = "NFC, Prepend, Replace, Sequence";

std::string replace_all(const std::string& text, const PcrePattern& pattern, const std::string& content) {
  std::string out;
  std::size_t at = 0;
  for (const Span& m : pattern.find_all(text)) {
    out.append(text, at, m.begin - at);
    out += content;
    at = m.end;
  }
  out.append(text, at, std::string::npos);
  return out;
}

}  // namespace

std::string to_nfc(const std::string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw std::runtime_error("ICU has no NFC normalizer");
  if (!utf8_valid(text)) return text;  // ICU would replace bad bytes with U+FFFD
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
  if (nfc->isNormalized(in, status) && U_SUCCESS(status)) return text;
  status = U_ZERO_ERROR;
  const icu::UnicodeString out = nfc->normalize(in, status);
  if (U_FAILURE(status)) return text;
  std::string result;
  out.toUTF8String(result);
  return result;
}

HfNormalizer::HfNormalizer(hf_json::Element json) {
  if (!json.is_null()) add(json);
}

void HfNormalizer::add(hf_json::Element json) {
  const std::string type = hf_json::type_of(json, "normalizer");
  if (type == "Sequence") {
    for (auto step : hf_json::sequence_steps(json, "normalizer", "normalizers")) add(step);
  } else if (type == "NFC") {
    steps_.push_back({Kind::nfc, "", nullptr});
  } else if (type == "Prepend") {
    steps_.push_back({Kind::prepend, hf_json::string_or(json, "prepend", ""), nullptr});
  } else if (type == "Replace") {
    bool is_regex = false;
    const std::string pattern = hf_json::pattern_of(json, is_regex);
    steps_.push_back({Kind::replace, hf_json::string_or(json, "content", ""),
                      std::make_shared<PcrePattern>(pattern, !is_regex)});
  } else {
    hf_json::refuse("normalizer", type, kSupported);
  }
}

std::string HfNormalizer::apply(std::string text) const {
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::nfc: text = to_nfc(text); break;
      case Kind::prepend:
        if (!text.empty()) text = s.text + text;  // as Hugging Face: nothing is prepended to empty text
        break;
      case Kind::replace: text = replace_all(text, *s.pattern, s.text); break;
    }
  }
  return text;
}

}  // namespace pagedserve::model
