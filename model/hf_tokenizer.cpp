#include "model/hf_tokenizer.hpp"

#include <simdjson.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <stdexcept>

#include "model/hf_loader.hpp"
#include "model/utf8.hpp"

namespace pagedserve::model {

namespace {

hf_json::Element field_or_null(hf_json::Element root, const char* name, simdjson::dom::parser& null_parser) {
  hf_json::Element v;
  if (!root[name].get(v)) return v;
  return null_parser.parse(std::string_view("null")).value();
}

bool is_space(std::uint32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)); }

// Where the whitespace that ends text[from, to) begins.
std::size_t trailing_space_start(std::string_view text, std::size_t from, std::size_t to) {
  while (to > from) {
    std::size_t start = to - 1;
    while (start > from && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (utf8_char_length(text, start) != to - start || !is_space(utf8_decode_at(text, start))) break;
    to = start;
  }
  return to;
}

// Where the whitespace that starts text[at...] ends.
std::size_t leading_space_end(std::string_view text, std::size_t at) {
  while (at < text.size() && is_space(utf8_decode_at(text, at))) at += utf8_char_length(text, at);
  return at;
}

// What a prompt gets from the post-processor is read elsewhere (BOS, see
// tokenizer_config.hpp); anything it would add beyond a leading special
// token is refused here rather than silently left out.
void check_post_processor(hf_json::Element post) {
  if (post.is_null()) return;
  const std::string type = hf_json::type_of(post, "post_processor");
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    for (auto step : hf_json::sequence_steps(post, "post_processor", "processors")) check_post_processor(step);
    return;
  }
  if (type != "TemplateProcessing")
    hf_json::refuse("post_processor", type, "TemplateProcessing (a leading special token), ByteLevel, Sequence");
  simdjson::dom::array single;
  if (post["single"].get(single)) throw std::runtime_error("tokenizer.json TemplateProcessing has no single template");
  std::size_t position = 0;
  for (auto part : single) {
    std::string_view id;
    if (position++ > 0 && !part["SpecialToken"]["id"].get(id))
      throw std::runtime_error("tokenizer.json TemplateProcessing adds " + std::string(id) +
                               " after the start of a text; only a leading special token (BOS) is supported");
  }
}

}  // namespace

HfTokenizer HfTokenizer::from_file(const std::string& path, std::int32_t bos_id, std::int32_t eos_id) {
  try {
    return HfTokenizer(read_model_file(path), bos_id, eos_id);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

HfTokenizer::HfTokenizer(const std::string& json_text, std::int32_t bos_id, std::int32_t eos_id)
    : bos_id_(bos_id), eos_id_(eos_id) {
  simdjson::dom::parser parser, null_parser;
  hf_json::Element root, model;
  if (parser.parse(json_text).get(root) || !root.is_object()) throw std::runtime_error("tokenizer.json is not a JSON object");
  if (root["model"].get(model)) throw std::runtime_error("tokenizer.json has no model");
  model_ = std::make_shared<BpeModel>(model);
  normalizer_ = HfNormalizer(field_or_null(root, "normalizer", null_parser));
  pre_tokenizer_ = HfPreTokenizer(field_or_null(root, "pre_tokenizer", null_parser));
  decoder_ = HfDecoder(field_or_null(root, "decoder", null_parser));
  check_post_processor(field_or_null(root, "post_processor", null_parser));
  read_added_tokens(root);
  const std::int32_t n = vocab_size();
  for (std::int32_t id = 0; id < n; ++id)
    decoded_.push_back(is_added_[id] ? model_->pieces()[id] : decoder_.decode(model_->pieces()[id], false));
}

void HfTokenizer::read_added_tokens(hf_json::Element root) {
  simdjson::dom::array added;
  if (!root["added_tokens"].get(added))
    for (auto t : added) {
      std::int64_t id = 0;
      std::string_view content;
      if (t["id"].get(id) || t["content"].get(content) || id < 0 || id > (1 << 24) || content.empty())
        throw std::runtime_error("malformed added_tokens entry");
      if (hf_json::bool_or(t, "single_word", false))
        throw std::runtime_error("added token " + std::string(content) + ": single_word is not supported");
      model_->add_piece(std::string(content), static_cast<std::int32_t>(id));
      // As Hugging Face does, a normalized token is looked for as the
      // normalizer rewrites it (Llama 2's "<s>" as "▁<s>").
      const bool normalized = hf_json::bool_or(t, "normalized", !hf_json::bool_or(t, "special", false));
      std::string pattern = normalized ? normalizer_.apply(std::string(content)) : std::string(content);
      added_.push_back({std::string(content), std::move(pattern), static_cast<std::int32_t>(id),
                        hf_json::bool_or(t, "lstrip", false), hf_json::bool_or(t, "rstrip", false), normalized});
    }
  std::stable_sort(added_.begin(), added_.end(), [](const auto& a, const auto& b) { return a.pattern.size() > b.pattern.size(); });
  for (std::size_t i = 0; i < added_.size(); ++i)
    added_by_first_byte_[added_[i].normalized][static_cast<unsigned char>(added_[i].pattern[0])].push_back(i);
  is_added_.assign(model_->pieces().size(), false);
  for (const auto& a : added_) is_added_[a.id] = true;
}

// The longest added token of the kind asked for that starts at text[at], or null.
const HfTokenizer::AddedToken* HfTokenizer::added_token_at(std::string_view text, std::size_t at, bool normalized) const {
  for (std::size_t i : added_by_first_byte_[normalized][static_cast<unsigned char>(text[at])])
    if (text.compare(at, added_[i].pattern.size(), added_[i].pattern) == 0) return &added_[i];
  return nullptr;
}

// `text` cut around the added tokens of one kind (the longest at the
// leftmost place), with the whitespace they strip removed.
std::vector<HfTokenizer::Part> HfTokenizer::split_on_added(std::string_view text, bool normalized, bool at_start) const {
  std::vector<Part> parts;
  std::size_t plain_from = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* hit = added_token_at(text, i, normalized);
    if (!hit) {
      ++i;
      continue;
    }
    const std::size_t plain_to = hit->lstrip ? trailing_space_start(text, plain_from, i) : i;
    if (plain_to > plain_from) parts.push_back({text.substr(plain_from, plain_to - plain_from), -1, at_start && plain_from == 0});
    parts.push_back({{}, hit->id, false});
    i += hit->pattern.size();
    if (hit->rstrip) i = leading_space_end(text, i);
    plain_from = i;
  }
  if (plain_from < text.size()) parts.push_back({text.substr(plain_from), -1, at_start && plain_from == 0});
  return parts;
}

// Hugging Face's order: tokens with normalized false are found in the raw
// text; each stretch between them is normalized, and tokens with normalized
// true are found in that; what remains is pre-tokenized and merged.
void HfTokenizer::encode_stretch(std::string_view text, bool at_start, std::vector<std::int32_t>& out) const {
  const std::string normalized = normalizer_.apply(std::string(text));
  for (const Part& part : split_on_added(normalized, true, at_start)) {
    if (part.token_id >= 0) {
      out.push_back(part.token_id);
      continue;
    }
    for (const PrePiece& piece : pre_tokenizer_.apply({std::string(part.text), part.at_start}))
      model_->encode(piece.text, out);
  }
}

std::vector<std::int32_t> HfTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<std::int32_t> out;
  if (add_bos && adds_bos_) out.push_back(bos_id_);
  for (const Part& part : split_on_added(text, false, true)) {
    if (part.token_id >= 0) out.push_back(part.token_id);
    else encode_stretch(part.text, part.at_start, out);
  }
  return out;
}

std::string HfTokenizer::decode_piece(std::int32_t prev, std::int32_t id) const {
  // After BOS is first too: the text then reads as Hugging Face decodes it
  // with special tokens skipped (and as llama2.c prints it).
  return decode_one(id, prev < 0 || prev == bos_id_);
}

std::string HfTokenizer::decode_sequence(const std::vector<std::int32_t>& ids) const {
  std::string text;
  for (std::size_t i = 0; i < ids.size(); ++i) text += decode_one(ids[i], i == 0);
  return text;
}

std::string HfTokenizer::decode_one(std::int32_t id, bool first) const {
  if (id < 0 || id >= vocab_size()) throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary");
  if (!first || is_added_[id]) return decoded_[id];
  return decoder_.decode(model_->pieces()[id], true);
}

}  // namespace pagedserve::model
