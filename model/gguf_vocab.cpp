#include "model/gguf_vocab.hpp"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

namespace pagedserve::model {

namespace {

const std::string kSpaceMark = "\u2581";  // SentencePiece's visible space

bool is_byte_piece(const std::string& p) {
  return p.size() == 6 && p.rfind("<0x", 0) == 0 && p.back() == '>';
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// tokenizer.bin stores <s> and </s> as "\n<s>\n" and "\n</s>\n" and spaces
// as ' ' (llama2.c's export); SentencePiece's pieces are restored here.
std::string sentencepiece_piece(std::int32_t id, const std::string& stored) {
  if (id == 0) return "<unk>";
  if (id == 1) return "<s>";
  if (id == 2) return "</s>";
  return replace_all(stored, " ", kSpaceMark);
}

GgufTokenType sentencepiece_type(std::int32_t id, const std::string& piece) {
  if (id == 0) return GgufTokenType::unknown;
  if (id == 1 || id == 2) return GgufTokenType::control;
  return is_byte_piece(piece) ? GgufTokenType::byte : GgufTokenType::normal;
}

std::string merge_text(simdjson::dom::element m) {
  std::string_view line;
  if (!m.get(line)) return std::string(line);
  simdjson::dom::array pair;
  if (!m.get(pair) && pair.size() == 2)
    return std::string(pair.at(0).get_string().value()) + " " + std::string(pair.at(1).get_string().value());
  throw std::runtime_error("tokenizer.json: malformed merge entry");
}

}  // namespace

void GgufVocab::add(std::string token, float score, GgufTokenType type) {
  tokens.push_back(std::move(token));
  scores.push_back(score);
  types.push_back(static_cast<std::int32_t>(type));
}

void GgufVocab::pad_to(int vocab_size) {
  if (static_cast<int>(tokens.size()) > vocab_size)
    throw std::runtime_error("the tokenizer has " + std::to_string(tokens.size()) + " tokens, the model only " +
                             std::to_string(vocab_size) + " embedding rows");
  for (int id = static_cast<int>(tokens.size()); id < vocab_size; ++id)
    add("[PAD" + std::to_string(id) + "]", -1000.0f, GgufTokenType::unused);
}

void GgufVocab::write_to(GgufWriter& w) const {
  w.add_string("tokenizer.ggml.model", model);
  if (!pre.empty()) w.add_string("tokenizer.ggml.pre", pre);
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_f32s("tokenizer.ggml.scores", scores);
  w.add_i32s("tokenizer.ggml.token_type", types);
  if (!merges.empty()) w.add_strings("tokenizer.ggml.merges", merges);
  w.add_u32("tokenizer.ggml.bos_token_id", static_cast<std::uint32_t>(bos_id));
  w.add_u32("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(eos_id));
  if (unknown_id >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", static_cast<std::uint32_t>(unknown_id));
  w.add_bool("tokenizer.ggml.add_bos_token", add_bos);
}

GgufVocab vocab_from_llama2c(const std::string& path, int vocab_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read tokenizer " + path);
  std::int32_t max_token_length = 0;
  in.read(reinterpret_cast<char*>(&max_token_length), 4);
  GgufVocab v;
  v.unknown_id = 0;
  for (std::int32_t id = 0; id < vocab_size; ++id) {
    float score = 0;
    std::int32_t len = 0;
    in.read(reinterpret_cast<char*>(&score), 4).read(reinterpret_cast<char*>(&len), 4);
    if (!in || len < 0 || len > 1 << 16) throw std::runtime_error("tokenizer " + path + " is truncated at token " + std::to_string(id));
    std::string stored(static_cast<std::size_t>(len), '\0');
    in.read(stored.data(), len);
    const auto piece = sentencepiece_piece(id, stored);
    v.add(piece, score, sentencepiece_type(id, piece));
  }
  if (!in) throw std::runtime_error("tokenizer " + path + " is truncated");
  return v;
}

GgufVocab vocab_from_tokenizer_json(const std::string& path, const std::string& pre) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) throw std::runtime_error("cannot read " + path);
  // Byte-level iff a ByteLevel step appears in the pre-tokenizer or decoder.
  const bool byte_level = std::string_view(text).find("\"ByteLevel\"") != std::string_view::npos;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root)) throw std::runtime_error("cannot parse " + path);
  simdjson::dom::object vocab;
  simdjson::dom::array merges;
  if (root["model"]["vocab"].get(vocab)) throw std::runtime_error(path + " has no model.vocab");
  if (root["model"]["merges"].get(merges)) throw std::runtime_error(path + " has no model.merges (only BPE is supported)");
  std::map<std::int64_t, std::pair<std::string, GgufTokenType>> by_id;
  for (auto [piece, id] : vocab) by_id[id.get_int64().value()] = {std::string(piece), GgufTokenType::normal};
  simdjson::dom::array added;
  if (!root["added_tokens"].get(added))
    for (auto t : added) {
      bool special = false;
      if (t["special"].get(special)) special = false;
      by_id[t["id"].get_int64().value()] = {std::string(t["content"].get_string().value()),
                                            special ? GgufTokenType::control : GgufTokenType::user_defined};
    }
  GgufVocab v;
  std::map<std::string, float> merge_scores;  // SentencePiece style: a merge's result, scored by rank
  float rank = 0;
  for (auto m : merges) {
    auto merge = merge_text(m);
    if (byte_level) v.merges.push_back(merge);
    else merge_scores.emplace(merge.erase(merge.find(' '), 1), -(rank += 1));
  }
  if (byte_level) {
    v.model = "gpt2";
    v.pre = pre;
  }
  for (const auto& [id, entry] : by_id) {
    if (id != static_cast<std::int64_t>(v.tokens.size())) throw std::runtime_error(path + ": token ids are not contiguous at " + std::to_string(id));
    auto type = entry.second;
    if (!byte_level && type == GgufTokenType::normal && is_byte_piece(entry.first)) type = GgufTokenType::byte;
    if (entry.first == "<unk>") v.unknown_id = static_cast<std::int32_t>(id), type = GgufTokenType::unknown;
    auto score = merge_scores.find(entry.first);
    v.add(entry.first, score == merge_scores.end() ? 0.0f : score->second, type);
  }
  return v;
}

GgufVocab placeholder_vocab(int vocab_size) {
  GgufVocab v;
  v.unknown_id = 0;
  v.add("<unk>", 0, GgufTokenType::unknown);
  v.add("<s>", 0, GgufTokenType::control);
  v.add("</s>", 0, GgufTokenType::control);
  char name[8];
  for (int b = 0; b < 256 && static_cast<int>(v.tokens.size()) < vocab_size; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.add(name, 0, GgufTokenType::byte);
  }
  for (int id = static_cast<int>(v.tokens.size()); id < vocab_size; ++id)
    v.add("tok" + std::to_string(id), 0, GgufTokenType::normal);
  return v;
}

}  // namespace pagedserve::model
