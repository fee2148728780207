#include "model/tokenizer.hpp"

namespace pagedserve::model {

std::string Tokenizer::decode(std::int32_t prev, const std::vector<std::int32_t>& ids) const {
  std::string text;
  for (auto id : ids) {
    text += decode_piece(prev, id);
    prev = id;
  }
  return text;
}

namespace {

// Length of the UTF-8 sequence a lead byte starts (1 for anything invalid,
// so bad bytes pass through instead of stalling the stream).
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// How many leading bytes of `s` form complete characters.
std::size_t complete_prefix(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = utf8_length(static_cast<unsigned char>(s[i]));
    if (i + n > s.size()) {
      // Incomplete only if every byte present is a continuation byte.
      for (std::size_t j = i + 1; j < s.size(); ++j)
        if ((static_cast<unsigned char>(s[j]) & 0xC0) != 0x80) return s.size();
      return i;
    }
    i += n;
  }
  return i;
}

}  // namespace

std::string IncrementalDecoder::push(std::int32_t id) {
  pending_ += tokenizer_.decode_piece(prev_, id);
  prev_ = id;
  std::size_t n = complete_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace pagedserve::model
