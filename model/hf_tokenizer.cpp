#include "model/hf_tokenizer.hpp"

#include "grammar/expr.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pagedserve::model {

namespace {

const std::string kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// GPT-2's reversible map from bytes to printable code points.
const std::vector<std::uint32_t>& byte_to_codepoint() {
  static const std::vector<std::uint32_t> table = [] {
    std::vector<std::uint32_t> t(256);
    std::uint32_t extra = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? static_cast<std::uint32_t>(b) : extra++;
    }
    return t;
  }();
  return table;
}

std::string utf8(std::uint32_t cp) { return grammar::utf8_encode(cp); }

std::size_t char_len(unsigned char lead) {
  return lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 1;
}

// Splits UTF-8 text into characters (an invalid byte is its own character).
std::vector<std::string> characters(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = std::min(char_len(static_cast<unsigned char>(s[i])), s.size() - i);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

enum class CharClass { letter, digit, space, newline, other };

CharClass classify(std::string_view ch) {
  const auto c = static_cast<unsigned char>(ch[0]);
  if (c >= 0x80) return CharClass::letter;  // non-ASCII counts as a letter
  if (std::isalpha(c)) return CharClass::letter;
  if (std::isdigit(c)) return CharClass::digit;
  if (c == '\r' || c == '\n') return CharClass::newline;
  if (std::isspace(c)) return CharClass::space;
  return CharClass::other;
}

// The Llama 3 / GPT-4 pre-tokenizer split, by hand: contractions, words
// with one leading non-letter, numbers of up to 3 digits, punctuation runs,
// newlines, and whitespace (a last space stays with the next word).
std::vector<std::string> pre_tokenize(std::string_view text) {
  auto chars = characters(text);
  std::vector<std::string> out;
  std::size_t i = 0;
  auto cls = [&](std::size_t k) { return k < chars.size() ? classify(chars[k]) : CharClass::newline; };
  auto take = [&](std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t k = from; k < to; ++k) s += chars[k];
    out.push_back(std::move(s));
    i = to;
  };
  while (i < chars.size()) {
    const CharClass c = cls(i);
    if (chars[i] == "'" && i + 1 < chars.size()) {
      std::string rest;
      for (std::size_t k = i + 1; k < std::min(chars.size(), i + 3); ++k) rest += static_cast<char>(std::tolower(chars[k][0]));
      std::size_t n = rest.rfind("re", 0) == 0 || rest.rfind("ve", 0) == 0 || rest.rfind("ll", 0) == 0 ? 2
                      : (!rest.empty() && std::string("stmd").find(rest[0]) != std::string::npos) ? 1 : 0;
      if (n) { take(i, i + 1 + n); continue; }
    }
    if (c == CharClass::letter || ((c == CharClass::other || c == CharClass::space) && cls(i + 1) == CharClass::letter)) {
      std::size_t j = c == CharClass::letter ? i : i + 1;
      while (j < chars.size() && cls(j) == CharClass::letter) ++j;
      take(i, j);
    } else if (c == CharClass::digit) {
      std::size_t j = i;
      while (j < chars.size() && j < i + 3 && cls(j) == CharClass::digit) ++j;
      take(i, j);
    } else if (c == CharClass::other || (c == CharClass::space && chars[i] == " " && cls(i + 1) == CharClass::other)) {
      std::size_t j = c == CharClass::other ? i : i + 1;
      while (j < chars.size() && cls(j) == CharClass::other) ++j;
      while (j < chars.size() && cls(j) == CharClass::newline) ++j;
      take(i, j);
    } else {  // whitespace and newlines
      std::size_t j = i;
      while (j < chars.size() && (cls(j) == CharClass::space || cls(j) == CharClass::newline)) ++j;
      std::size_t last_newline = i;
      for (std::size_t k = i; k < j; ++k)
        if (cls(k) == CharClass::newline) last_newline = k + 1;
      if (last_newline > i) j = last_newline;                   // \s*[\r\n]+
      else if (j < chars.size() && j - i > 1) j -= 1;           // \s+(?!\S): leave one space
      take(i, j);
    }
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

HfTokenizer HfTokenizer::from_file(const std::string& path, std::int32_t bos_id, std::int32_t eos_id) {
  try {
    return HfTokenizer(read_file(path), bos_id, eos_id);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

HfTokenizer::HfTokenizer(const std::string& json_text, std::int32_t bos_id, std::int32_t eos_id)
    : bos_id_(bos_id), eos_id_(eos_id) {
  simdjson::dom::parser parser;
  simdjson::dom::element root, model;
  if (parser.parse(json_text).get(root) || !root.is_object()) throw std::runtime_error("tokenizer.json is not a JSON object");
  std::string_view type;
  if (root["model"].get(model) || model["type"].get(type) || type != "BPE")
    throw std::runtime_error("only BPE tokenizer.json models are supported");
  simdjson::dom::object vocab;
  if (model["vocab"].get(vocab)) throw std::runtime_error("tokenizer.json has no model.vocab object");
  for (auto [piece, id_el] : vocab) {
    std::int64_t id = 0;
    if (id_el.get(id) || id < 0 || id > (1 << 24)) throw std::runtime_error("bad id for vocab piece " + std::string(piece));
    if (static_cast<std::size_t>(id) >= pieces_.size()) pieces_.resize(id + 1);
    pieces_[id] = std::string(piece);
    ids_[std::string(piece)] = static_cast<std::int32_t>(id);
  }
  simdjson::dom::array added;
  if (!root["added_tokens"].get(added))
    for (auto t : added) {
      std::int64_t id = 0;
      std::string_view content;
      if (t["id"].get(id) || t["content"].get(content) || id < 0 || id > (1 << 24) || content.empty())
        throw std::runtime_error("malformed added_tokens entry");
      if (static_cast<std::size_t>(id) >= pieces_.size()) pieces_.resize(id + 1);
      pieces_[id] = std::string(content);
      ids_[std::string(content)] = static_cast<std::int32_t>(id);
      added_.emplace_back(std::string(content), static_cast<std::int32_t>(id));
    }
  std::sort(added_.begin(), added_.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  // Byte-level iff a ByteLevel step appears in the pre-tokenizer or decoder.
  byte_level_ = json_text.find("\"ByteLevel\"") != std::string::npos;
  simdjson::dom::array merges;
  if (model["merges"].get(merges)) throw std::runtime_error("tokenizer.json has no model.merges");
  int rank = 0;
  for (auto m : merges) {
    std::string a, b;
    std::string_view line;
    if (!m.get(line)) {
      auto sp = line.find(' ');
      if (sp == std::string_view::npos) throw std::runtime_error("merge '" + std::string(line) + "' has no space");
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else if (m.is_array() && m.get_array().size() == 2) {
      a = std::string(m.at(0).get_string().value());
      b = std::string(m.at(1).get_string().value());
    } else {
      throw std::runtime_error("malformed merge entry");
    }
    std::int32_t ia = id_of(a), ib = id_of(b), im = id_of(a + b);
    if (ia < 0 || ib < 0 || im < 0) throw std::runtime_error("merge '" + a + " " + b + "' names pieces missing from the vocab");
    merges_.emplace(std::make_pair(ia, ib), std::make_pair(rank++, im));
  }
  byte_tokens_.assign(256, -1);
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[b] = id_of(name);
  }
  for (std::int32_t id = 0; id < vocab_size(); ++id) decoded_.push_back(decode_uncached(id));
}

std::int32_t HfTokenizer::id_of(const std::string& piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

// BPE on one word: start from its characters, repeatedly merge the pair of
// lowest rank until none applies.
void HfTokenizer::encode_word(const std::string& word, std::vector<std::int32_t>& out) const {
  std::vector<std::int32_t> syms;
  for (const auto& ch : characters(word)) {
    if (std::int32_t id = id_of(ch); id >= 0) {
      syms.push_back(id);
    } else {
      for (unsigned char b : ch) {
        if (byte_tokens_[b] < 0) throw std::runtime_error("character outside the vocabulary and no byte fallback");
        syms.push_back(byte_tokens_[b]);
      }
    }
  }
  while (syms.size() > 1) {
    int best_rank = INT32_MAX;
    std::size_t best_at = 0;
    std::int32_t merged = -1;
    for (std::size_t i = 0; i + 1 < syms.size(); ++i) {
      auto it = merges_.find({syms[i], syms[i + 1]});
      if (it != merges_.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        best_at = i;
        merged = it->second.second;
      }
    }
    if (merged < 0) break;
    syms[best_at] = merged;
    syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

void HfTokenizer::encode_text(std::string_view text, std::vector<std::int32_t>& out) const {
  if (text.empty()) return;
  if (byte_level_) {
    const auto& map = byte_to_codepoint();
    for (const auto& piece : pre_tokenize(text)) {
      std::string mapped;
      for (unsigned char b : piece) mapped += utf8(map[b]);
      encode_word(mapped, out);
    }
    return;
  }
  // SentencePiece style: visible spaces, a leading one, words split before
  // each visible space (pieces never span two words).
  std::string s = kSpaceMark;
  for (char c : text) s += c == ' ' ? kSpaceMark : std::string(1, c);
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t next = s.find(kSpaceMark, start + kSpaceMark.size());
    if (next == std::string::npos) next = s.size();
    encode_word(s.substr(start, next - start), out);
    start = next;
  }
}

std::vector<std::int32_t> HfTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<std::int32_t> out;
  if (add_bos && adds_bos_) out.push_back(bos_id_);
  std::size_t plain_from = 0, i = 0;
  while (i < text.size()) {
    auto hit = std::find_if(added_.begin(), added_.end(), [&](const auto& a) { return text.substr(i, a.first.size()) == a.first; });
    if (hit == added_.end()) {
      ++i;
      continue;
    }
    encode_text(text.substr(plain_from, i - plain_from), out);
    out.push_back(hit->second);
    i += hit->first.size();
    plain_from = i;
  }
  encode_text(text.substr(plain_from), out);
  return out;
}

bool HfTokenizer::is_control(std::int32_t id) const {
  return id == bos_id_ || id == eos_id_ ||
         std::any_of(added_.begin(), added_.end(), [&](const auto& a) { return a.second == id; });
}

std::string HfTokenizer::decode_piece(std::int32_t prev, std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary");
  const std::string& text = decoded_[id];
  // SentencePiece style: the space prepended at encoding is not text.
  if (!byte_level_ && prev == bos_id_ && !text.empty() && text[0] == ' ') return text.substr(1);
  return text;
}

std::string HfTokenizer::decode_uncached(std::int32_t id) const {
  const std::string& piece = pieces_[id];
  for (const auto& a : added_)
    if (a.second == id) return a.first;
  if (byte_level_) {
    static const auto reverse = [] {
      std::unordered_map<std::uint32_t, char> r;
      const auto& map = byte_to_codepoint();
      for (int b = 0; b < 256; ++b) r[map[b]] = static_cast<char>(b);
      return r;
    }();
    std::string out;
    for (const auto& ch : characters(piece)) {
      std::uint32_t cp = 0;
      const auto lead = static_cast<unsigned char>(ch[0]);
      cp = ch.size() == 1 ? lead : ch.size() == 2 ? ((lead & 0x1F) << 6) | (ch[1] & 0x3F)
                                                  : ((lead & 0x0F) << 12) | ((ch[1] & 0x3F) << 6) | (ch[2] & 0x3F);
      auto it = reverse.find(cp);
      out += it == reverse.end() ? ch : std::string(1, it->second);
    }
    return out;
  }
  for (int b = 0; b < 256; ++b)
    if (byte_tokens_[b] == id) return std::string(1, static_cast<char>(b));
  std::string out;
  for (std::size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out += ' ';
      i += kSpaceMark.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

}  // namespace pagedserve::model
