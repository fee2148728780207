#include "model/hf_pre_tokenizer.hpp"

#include <algorithm>
#include <stdexcept>

#include "model/utf8.hpp"

namespace pagedserve::model {

namespace {

constexpr const char* kSupported = "Split, ByteLevel, Digits, Metaspace, Sequence";

// GPT-2's pattern, which ByteLevel with use_regex applies.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Segment {
  std::size_t begin, end;
  bool is_match;
};

// The text cut at the pattern's matches: matches and the stretches between.
std::vector<Segment> segments(const std::string& text, const PcrePattern& pattern, bool invert) {
  std::vector<Segment> out;
  std::size_t at = 0;
  for (const Span& m : pattern.find_all(text)) {
    if (m.begin > at) out.push_back({at, m.begin, invert});
    out.push_back({m.begin, m.end, !invert});
    at = m.end;
  }
  if (at < text.size()) out.push_back({at, text.size(), invert});
  return out;
}

}  // namespace

const std::vector<std::string>& byte_level_characters() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    std::uint32_t extra = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = utf8_encode(printable ? static_cast<std::uint32_t>(b) : extra++);
    }
    return t;
  }();
  return table;
}

int byte_level_byte(std::uint32_t cp) {
  if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255)) return static_cast<int>(cp);
  if (cp < 256 || cp >= 256 + 68) return -1;
  static const std::vector<int> extra = [] {
    std::vector<int> e;
    for (int b = 0; b < 256; ++b)
      if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) e.push_back(b);
    return e;
  }();
  return extra[cp - 256];
}

HfPreTokenizer::HfPreTokenizer(hf_json::Element json) {
  if (!json.is_null()) add(json);
}

void HfPreTokenizer::add(hf_json::Element json) {
  const std::string type = hf_json::type_of(json, "pre_tokenizer");
  if (type == "Sequence") {
    for (auto step : hf_json::sequence_steps(json, "pre_tokenizer", "pretokenizers")) add(step);
  } else if (type == "Split") {
    add_split(json);
  } else if (type == "ByteLevel") {
    add_byte_level(json);
  } else if (type == "Digits") {
    // Hugging Face counts every Unicode number (category N) as a digit.
    const bool individual = hf_json::bool_or(json, "individual_digits", false);
    steps_.push_back({Kind::split, std::make_shared<PcrePattern>(individual ? "\\p{N}" : "\\p{N}+", false)});
  } else if (type == "Metaspace") {
    add_metaspace(json);
  } else {
    hf_json::refuse("pre_tokenizer", type, kSupported);
  }
}

void HfPreTokenizer::add_split(hf_json::Element json) {
  bool is_regex = false;
  const std::string pattern = hf_json::pattern_of(json, is_regex);
  Step s{Kind::split, std::make_shared<PcrePattern>(pattern, !is_regex)};
  const std::string behavior = hf_json::string_or(json, "behavior", "Isolated");
  if (behavior == "Removed") s.behavior = SplitBehavior::removed;
  else if (behavior == "Isolated") s.behavior = SplitBehavior::isolated;
  else if (behavior == "MergedWithPrevious") s.behavior = SplitBehavior::merged_with_previous;
  else if (behavior == "MergedWithNext") s.behavior = SplitBehavior::merged_with_next;
  else if (behavior == "Contiguous") s.behavior = SplitBehavior::contiguous;
  else throw std::runtime_error("tokenizer.json Split behavior " + behavior + " is not supported");
  s.invert = hf_json::bool_or(json, "invert", false);
  steps_.push_back(std::move(s));
}

void HfPreTokenizer::add_byte_level(hf_json::Element json) {
  Step s{Kind::byte_level};
  // Files always say; when one does not, no space (as transformers.js reads it).
  s.add_prefix_space = hf_json::bool_or(json, "add_prefix_space", false);
  if (hf_json::bool_or(json, "use_regex", true)) s.pattern = std::make_shared<PcrePattern>(kGpt2Pattern, false);
  steps_.push_back(std::move(s));
  byte_level_ = true;
}

void HfPreTokenizer::add_metaspace(hf_json::Element json) {
  Step s{Kind::metaspace};
  s.replacement = hf_json::string_or(json, "replacement", "\xE2\x96\x81");
  // Older files say add_prefix_space instead of prepend_scheme.
  const bool legacy_prefix = hf_json::bool_or(json, "add_prefix_space", true);
  s.prepend_scheme = hf_json::string_or(json, "prepend_scheme", legacy_prefix ? "always" : "never");
  if (s.prepend_scheme != "always" && s.prepend_scheme != "first" && s.prepend_scheme != "never")
    throw std::runtime_error("tokenizer.json Metaspace prepend_scheme " + s.prepend_scheme + " is not supported");
  s.metaspace_split = hf_json::bool_or(json, "split", true);
  if (s.metaspace_split) s.pattern = std::make_shared<PcrePattern>(s.replacement, true);
  steps_.push_back(std::move(s));
}

std::vector<PrePiece> HfPreTokenizer::apply(PrePiece text) const {
  std::vector<PrePiece> pieces;
  if (!text.text.empty()) pieces.push_back(std::move(text));
  for (const Step& s : steps_) run(s, pieces);
  return pieces;
}

namespace {

// Hugging Face's SplitDelimiterBehavior over one piece's segments.
std::vector<Segment> combine(std::vector<Segment> segs, SplitBehavior behavior) {
  std::vector<Segment> out;
  bool neighbour_match = false;
  switch (behavior) {
    case SplitBehavior::isolated: return segs;
    case SplitBehavior::removed:
      for (const auto& s : segs)
        if (!s.is_match) out.push_back(s);
      return out;
    case SplitBehavior::merged_with_previous:
    case SplitBehavior::contiguous:
      for (const auto& s : segs) {
        const bool extend = behavior == SplitBehavior::contiguous ? s.is_match == neighbour_match
                                                                  : s.is_match && !neighbour_match;
        if (extend && !out.empty()) out.back().end = s.end;
        else out.push_back(s);
        neighbour_match = s.is_match;
      }
      return out;
    case SplitBehavior::merged_with_next:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->is_match && !neighbour_match && !out.empty()) out.back().begin = it->begin;
        else out.push_back(*it);
        neighbour_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      return out;
  }
  return segs;
}

}  // namespace

// What a step does to a piece before cutting it: ByteLevel's prefix space,
// Metaspace's replacement of spaces and its prepended mark.
void HfPreTokenizer::prepare(const Step& s, PrePiece& p) const {
  if (s.kind == Kind::byte_level && s.add_prefix_space && p.text.rfind(' ', 0) != 0) p.text = " " + p.text;
  if (s.kind != Kind::metaspace) return;
  std::string replaced;
  for (char c : p.text) c == ' ' ? replaced += s.replacement : replaced += c;
  const bool prepend = s.prepend_scheme == "always" || (s.prepend_scheme == "first" && p.at_start);
  if (prepend && replaced.rfind(s.replacement, 0) != 0) replaced = s.replacement + replaced;
  p.text = std::move(replaced);
}

void HfPreTokenizer::split_into(const Step& s, const PrePiece& p, std::vector<PrePiece>& out) const {
  if (!s.pattern) {
    out.push_back(p);
    return;
  }
  // Metaspace's split keeps each mark with the word after it.
  const SplitBehavior behavior = s.kind == Kind::metaspace ? SplitBehavior::merged_with_next : s.behavior;
  for (const Segment& g : combine(segments(p.text, *s.pattern, s.invert), behavior))
    out.push_back({p.text.substr(g.begin, g.end - g.begin), p.at_start && g.begin == 0});
}

void HfPreTokenizer::run(const Step& s, std::vector<PrePiece>& pieces) const {
  std::vector<PrePiece> out;
  for (PrePiece& p : pieces) {
    const std::size_t first_new = out.size();
    prepare(s, p);
    split_into(s, p, out);
    if (s.kind != Kind::byte_level) continue;
    const auto& map = byte_level_characters();
    for (std::size_t i = first_new; i < out.size(); ++i) {
      std::string mapped;
      for (unsigned char b : out[i].text) mapped += map[b];
      out[i].text = std::move(mapped);
    }
  }
  pieces = std::move(out);
}

}  // namespace pagedserve::model
