#include "parsers/reasoning_parser.hpp"

#include "parsers/held_marker.hpp"

namespace pagedserve::parsers {

bool prompt_opens_reasoning(std::string_view prompt) {
  const auto open = prompt.rfind(kThinkOpen);
  if (open == std::string_view::npos) return false;
  const auto close = prompt.rfind(kThinkClose);
  return (close == std::string_view::npos || close < open) && trim(prompt.substr(open + kThinkOpen.size())).empty();
}

ReasoningStream::ReasoningStream(bool starts_inside) : state_(starts_inside ? State::reasoning : State::before) {}

void ReasoningStream::emit(std::string_view text, ReasoningSplit& out) {
  if (!part_started_) {
    text = trim_left(text);
    part_started_ = !text.empty();
  }
  (state_ == State::reasoning ? out.reasoning : out.content).append(text);
}

// Before the first non-space character: an output that begins with <think>
// is reasoning; anything else is all content.
void ReasoningStream::decide_start(ReasoningSplit& out) {
  const std::string_view rest = trim_left(held_);
  if (rest.size() < kThinkOpen.size() && kThinkOpen.substr(0, rest.size()) == rest) return;  // undecided
  if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
    held_.erase(0, held_.size() - rest.size() + kThinkOpen.size());
    state_ = State::reasoning;
    return;
  }
  state_ = State::content;
  std::string all;
  all.swap(held_);
  emit(all, out);
}

ReasoningSplit ReasoningStream::feed(std::string_view text) {
  ReasoningSplit out;
  held_.append(text);
  if (state_ == State::before) decide_start(out);
  if (state_ == State::reasoning) {
    std::string before;
    const bool closed = take_until_marker(held_, kThinkClose, before);
    emit(before, out);
    if (closed) {
      state_ = State::content;
      part_started_ = false;
    }
  }
  if (state_ == State::content) {
    std::string all;
    all.swap(held_);
    emit(all, out);
  }
  return out;
}

ReasoningSplit ReasoningStream::finish() {
  ReasoningSplit out;
  if (state_ == State::before) state_ = State::content;
  std::string all;
  all.swap(held_);
  emit(all, out);
  return out;
}

ReasoningSplit split_reasoning(std::string_view output, bool starts_inside) {
  ReasoningStream stream(starts_inside);
  ReasoningSplit all = stream.feed(output);
  const ReasoningSplit last = stream.finish();
  all.reasoning += last.reasoning;
  all.content += last.content;
  return all;
}

}  // namespace pagedserve::parsers
