#include "model/hf_decoder.hpp"

#include <stdexcept>

#include "model/hf_pre_tokenizer.hpp"
#include "model/utf8.hpp"

namespace pagedserve::model {

namespace {

constexpr const char* kSupported = "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence";

std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  std::string out;
  std::size_t at = 0;
  for (std::size_t hit; (hit = text.find(from, at)) != std::string::npos; at = hit + from.size()) {
    out.append(text, at, hit - at);
    out += to;
  }
  out.append(text, at, std::string::npos);
  return out;
}

// Byte-level characters back to bytes; a piece with any other character
// (an added token) stays as it is.
std::string byte_level_decode(const std::string& piece) {
  std::string out;
  for (std::size_t i = 0; i < piece.size(); i += utf8_char_length(piece, i)) {
    const int b = byte_level_byte(utf8_decode_at(piece, i));
    if (b < 0) return piece;
    out += static_cast<char>(b);
  }
  return out;
}

// "<0xNN>" to its byte.
std::string byte_fallback_decode(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return piece;
  unsigned value = 0;
  for (char c : piece.substr(3, 2)) {
    const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (digit < 0) return piece;
    value = value * 16 + static_cast<unsigned>(digit);
  }
  return std::string(1, static_cast<char>(value));
}

std::string strip_leading(const std::string& text, const std::string& ch, int count) {
  std::size_t at = 0;
  for (int k = 0; k < count && !ch.empty() && text.compare(at, ch.size(), ch) == 0; ++k) at += ch.size();
  return text.substr(at);
}

}  // namespace

HfDecoder::HfDecoder(hf_json::Element json) : declared_(!json.is_null()) {
  if (declared_) add(json);
}

void HfDecoder::add(hf_json::Element json) {
  const std::string type = hf_json::type_of(json, "decoder");
  if (type == "Sequence") {
    for (auto step : hf_json::sequence_steps(json, "decoder", "decoders")) add(step);
  } else if (type == "ByteLevel") {
    steps_.push_back({Kind::byte_level});
  } else if (type == "Metaspace") {
    const bool legacy_prefix = hf_json::bool_or(json, "add_prefix_space", true);
    const std::string scheme = hf_json::string_or(json, "prepend_scheme", legacy_prefix ? "always" : "never");
    steps_.push_back({Kind::metaspace, hf_json::string_or(json, "replacement", "\xE2\x96\x81"), " ", 0, scheme != "never"});
  } else if (type == "Replace") {
    bool is_regex = false;
    std::string from = hf_json::pattern_of(json, is_regex);
    if (is_regex) throw std::runtime_error("tokenizer.json decoder Replace with a Regex pattern is not supported");
    steps_.push_back({Kind::replace, std::move(from), hf_json::string_or(json, "content", "")});
  } else if (type == "ByteFallback") {
    steps_.push_back({Kind::byte_fallback});
  } else if (type == "Fuse") {
    fused_ = true;
  } else if (type == "Strip") {
    if (hf_json::int_or(json, "stop", 0) != 0)
      throw std::runtime_error("tokenizer.json decoder Strip with stop > 0 is not supported (it needs the text's end)");
    steps_.push_back({Kind::strip, hf_json::string_or(json, "content", " "), "", static_cast<int>(hf_json::int_or(json, "start", 0)),
                      fused_});
  } else {
    hf_json::refuse("decoder", type, kSupported);
  }
}

std::string HfDecoder::decode(const std::string& piece, bool first) const {
  if (!declared_) return first ? piece : " " + piece;
  std::string text = piece;
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::byte_level: text = byte_level_decode(text); break;
      case Kind::byte_fallback: text = byte_fallback_decode(text); break;
      case Kind::replace: text = replace_all(text, s.from, s.to); break;
      case Kind::metaspace:
        text = replace_all(text, s.from, " ");
        if (first && s.only_first) text = strip_leading(text, " ", 1);
        break;
      case Kind::strip:
        if (first || !s.only_first) text = strip_leading(text, s.from, s.start);
        break;
    }
  }
  return text;
}

}  // namespace pagedserve::model
