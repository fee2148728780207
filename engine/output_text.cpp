#include "engine/output_text.hpp"

#include <algorithm>

namespace pagedserve::engine {

OutputText::OutputText(const model::Tokenizer* tokenizer, std::int32_t prev, std::vector<std::string> stop)
    : stop_(std::move(stop)) {
  if (tokenizer) decoder_.emplace(*tokenizer, prev);
}

bool OutputText::push(TokenEvent event) {
  const std::size_t before = text_.size();
  if (decoder_) event.text = decoder_->push(event.token_id);
  text_ += event.text;
  held_.push_back(std::move(event));
  // Only a stop string that ends in the new text can be new.
  std::size_t max_stop = 0;
  for (const auto& s : stop_) max_stop = std::max(max_stop, s.size());
  const std::size_t from = before >= max_stop ? before - max_stop + 1 : 0;
  std::size_t first = std::string::npos;
  for (const auto& s : stop_) first = std::min(first, text_.find(s, from));
  if (first == std::string::npos) return false;
  cut_at(first);
  stopped_ = true;
  return true;
}

// The longest suffix of the text that is a proper prefix of a stop string.
std::size_t OutputText::held_suffix_length() const {
  std::size_t held = 0;
  for (const auto& s : stop_) {
    for (std::size_t n = std::min(s.size() - 1, text_.size()); n > held; --n) {
      if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
        held = n;
        break;
      }
    }
  }
  return held;
}

// Cuts the text (and the held events' texts) at `end`.
void OutputText::cut_at(std::size_t end) {
  text_.resize(end);
  std::size_t pos = num_released_chars_;
  for (auto& e : held_) {
    const std::size_t keep = pos >= end ? 0 : std::min(e.text.size(), end - pos);
    pos += e.text.size();
    e.text.resize(keep);
  }
}

void OutputText::take_ready(std::vector<Event>& out) {
  if (stopped_) return;  // everything goes out with finish()
  const std::size_t safe = text_.size() - held_suffix_length();
  std::size_t n = 0;
  while (n < held_.size() && num_released_chars_ + held_[n].text.size() <= safe) {
    num_released_chars_ += held_[n].text.size();
    out.emplace_back(std::move(held_[n]));
    ++n;
  }
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
}

void OutputText::finish(std::vector<Event>& out) {
  if (decoder_ && !stopped_ && !held_.empty()) {
    std::string rest = decoder_->flush();
    text_ += rest;
    held_.back().text += rest;
  }
  for (auto& e : held_) {
    num_released_chars_ += e.text.size();
    out.emplace_back(std::move(e));
  }
  held_.clear();
}

}  // namespace pagedserve::engine
